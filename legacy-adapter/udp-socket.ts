// UDP sockets that send only to IP literals: the address is used as given, with
// no resolver call and no deferred callback per datagram.

import { createSocket, type Socket } from 'node:dgram'

function literalAddress(
  address: string,
  _family: unknown,
  callback: (err: null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4)
}

export function createUdpSocket(ipv6: boolean): Socket {
  return createSocket({ type: ipv6 ? 'udp6' : 'udp4', lookup: literalAddress })
}
