import { describe, expect, it } from 'vitest';
import { parseResolvConf, podDnsConfig, type DnsSettings } from './dns.js';
import { pod } from './test-fixtures.js';

const host = parseResolvConf('# host\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example lab.example\noptions edns0 ndots:2\n');
const cluster: DnsSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: host };

describe('podDnsConfig', () => {
  it('parses resolv.conf nameservers, search and options', () => {
    expect(host).toEqual({ servers: ['1.1.1.1', '8.8.8.8'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'ndots:2'] });
  });

  it('uses the cluster DNS with namespace search paths and ndots:5 for ClusterFirst', () => {
    expect(podDnsConfig(pod({}, { namespace: 'shop' }), cluster)).toEqual({
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: ['ndots:5'],
    });
  });

  it('uses the host settings for Default and for ClusterFirst on the host network', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), cluster).servers).toEqual(['1.1.1.1', '8.8.8.8']);
    expect(podDnsConfig(pod({ hostNetwork: true }), cluster).servers).toEqual(['1.1.1.1', '8.8.8.8']);
    expect(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster).servers).toEqual(['10.96.0.10']);
  });

  it('falls back to the host settings when no cluster DNS is configured', () => {
    expect(podDnsConfig(pod({}), { ...cluster, clusterDNS: [] }).servers).toEqual(['1.1.1.1', '8.8.8.8']);
  });

  it('starts from nothing for None and merges the pod dnsConfig, overriding options by name', () => {
    const p = pod({
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.example'], options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }] },
    });
    expect(podDnsConfig(p, cluster)).toEqual({ servers: ['9.9.9.9'], searches: ['a.example'], options: ['ndots:1', 'rotate'] });
    const merged = podDnsConfig(pod({ dnsConfig: { options: [{ name: 'ndots', value: '2' }] } }), cluster);
    expect(merged.options).toEqual(['ndots:2']);
  });

  it('keeps at most three nameservers', () => {
    const p = pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4'] } });
    expect(podDnsConfig(p, cluster).servers).toEqual(['1.0.0.1', '1.0.0.2', '1.0.0.3']);
  });

  it('uses localhost when the kubelet has no resolv.conf', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), { ...cluster, hostResolvConf: null })).toEqual({ servers: ['127.0.0.1'], searches: ['.'], options: [] });
  });

  it('rejects an unknown dnsPolicy naming the field', () => {
    expect(() => podDnsConfig(pod({ dnsPolicy: 'Sometimes' }), cluster)).toThrow('spec.dnsPolicy');
  });
});
