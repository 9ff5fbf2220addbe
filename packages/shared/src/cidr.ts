/** IPv4 CIDR math on unsigned 32-bit integers. */

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
}

/** Smallest pool we hand addresses from (a /30 has one usable address) and the largest we pre-allocate. */
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 30;

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`"${ip}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses "10.0.0.0/16"; the address must be the network address of its prefix. */
export function parseCidr(text: string): Cidr {
  const [ip, prefixText, ...rest] = text.trim().split("/");
  if (ip === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) {
    throw new Error(`"${text}" is not a CIDR like 10.0.0.0/16`);
  }
  const prefix = Number(prefixText);
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
    throw new Error(`"${text}": the prefix must be between /${MIN_PREFIX} and /${MAX_PREFIX}`);
  }
  const address = ipToInt(ip);
  const network = (address & mask(prefix)) >>> 0;
  if (network !== address) {
    throw new Error(`"${text}" is not a network address; did you mean ${intToIp(network)}/${prefix}?`);
  }
  return { network, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${intToIp(cidr.network)}/${cidr.prefix}`;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * The addresses a pool hands out: all but the first `firstOffset` (the network address and the
 * gateway, network + 1; a subnet also reserves + 2 and + 3, as AWS does) and the broadcast address.
 */
export function usableRange(cidr: Cidr, firstOffset = 2): { first: number; last: number; size: number } {
  const total = 2 ** (32 - cidr.prefix);
  const first = cidr.network + firstOffset;
  const last = cidr.network + total - 2;
  return { first, last, size: last - first + 1 };
}

export function contains(cidr: Cidr, ip: string): boolean {
  return (ipToInt(ip) & mask(cidr.prefix)) >>> 0 === cidr.network;
}

/** Whether every address of `inner` is in `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && overlaps(inner, outer);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return (a.network & mask(prefix)) >>> 0 === (b.network & mask(prefix)) >>> 0;
}
