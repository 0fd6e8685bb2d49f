// `dns2`, the npm DNS server a Node user would otherwise pick, answering the same
// A and AAAA questions from a Map.
// usage: node dns2-server.ts PORT ANSWERS.json

import { readFileSync } from 'node:fs'
import dns2 from 'dns2'

const [port, answersFile] = process.argv.slice(2)
const records = new Map<string, { type: number; ttl: number; data: string }[]>()
for (const a of JSON.parse(readFileSync(answersFile, 'utf8')) as {
  name: string
  type: number
  records: { type: number; ttl: number; data: string }[]
}[]) {
  records.set(`${a.name.toLowerCase()}/${a.type}`, a.records)
}

const { Packet } = dns2
const server = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request)
    const [question] = request.questions
    for (const r of records.get(`${question.name.toLowerCase()}./${question.type}`) ?? []) {
      response.answers.push({
        name: question.name,
        type: r.type,
        class: Packet.CLASS.IN,
        ttl: r.ttl,
        address: r.data,
      } as never)
    }
    send(response)
  },
})
server.on('listening', () => console.log('ready'))
server.listen({ udp: { port: Number(port), address: '127.0.0.1' } })
process.on('SIGTERM', () => process.exit(0))
