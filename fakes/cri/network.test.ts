import { describe, expect, it } from 'vitest';
import { ipv4ToInt, PodIpAllocator } from './network.js';

describe('pod IP allocation', () => {
  it('reads dotted quads as 32-bit numbers and refuses anything else', () => {
    expect(ipv4ToInt('127.64.16.2')).toBe(0x7f401002);
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToInt('0.0.0.0')).toBe(0);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '1..3.4', '1.2.3.256', '1.2.3.0004', 'a.b.c.d', '1.2.3.4 ', '.1.2.3', '1.2.3.']) expect(ipv4ToInt(bad), bad).toBeNull();
  });

  it('hands a released address out again once the rest of the range is used', () => {
    const ips = new PodIpAllocator('127.9.0.0/29');
    const all = Array.from({ length: 5 }, () => ips.allocate());
    expect(all).toEqual(['127.9.0.2', '127.9.0.3', '127.9.0.4', '127.9.0.5', '127.9.0.6']);
    const a = all[1]!;
    expect(() => ips.allocate()).toThrow(/exhausted/);
    ips.release(a);
    expect(ips.allocate()).toBe(a);
    ips.release('not an address');
    expect(() => ips.allocate()).toThrow(/exhausted/);
  });
});
