import { describe, expect, it } from 'vitest';
import { ProjectionError, configMapPayload, secretPayload, validatePayloadPath } from './projection.js';

const files = (p: Map<string, { data: Buffer; mode: number }>): Record<string, [string, string]> =>
  Object.fromEntries([...p].map(([k, v]) => [k, [v.data.toString('utf8'), v.mode.toString(8)]]));

describe('configMap and secret projection', () => {
  const cm = { metadata: { name: 'cfg' }, data: { 'app.conf': 'port=80', 'log.level': 'info' }, binaryData: { blob: Buffer.from('bin').toString('base64') } };

  it('projects every key with the default mode 0644 when there are no items', () => {
    expect(files(configMapPayload({ name: 'cfg' }, cm, 'spec.volumes[0].configMap'))).toEqual({
      'app.conf': ['port=80', '644'],
      'log.level': ['info', '644'],
      blob: ['bin', '644'],
    });
  });

  it('projects only the listed items at their paths, with item modes over defaultMode', () => {
    const payload = configMapPayload(
      { name: 'cfg', defaultMode: 0o400, items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }, { key: 'log.level', path: 'level' }] },
      cm,
      'spec.volumes[0].configMap',
    );
    expect(files(payload)).toEqual({ 'conf/app.conf': ['port=80', '600'], level: ['info', '400'] });
  });

  it('fails on a missing key unless the source is optional, naming the item', () => {
    const source = { name: 'cfg', items: [{ key: 'nope', path: 'x' }] };
    expect(() => configMapPayload(source, cm, 'spec.volumes[1].configMap')).toThrow(
      expect.objectContaining({ field: 'spec.volumes[1].configMap.items[0].key', message: 'configmap references non-existent config key: nope' }),
    );
    expect(configMapPayload({ ...source, optional: true }, cm, 'f').size).toBe(0);
  });

  it('fails on a missing object unless optional', () => {
    expect(() => configMapPayload({ name: 'gone' }, null, 'spec.volumes[0].configMap')).toThrow('configmap "gone" not found');
    expect(configMapPayload({ name: 'gone', optional: true }, null, 'f').size).toBe(0);
    expect(() => secretPayload({ secretName: 's' }, null, 'spec.volumes[0].secret')).toThrow(
      expect.objectContaining({ field: 'spec.volumes[0].secret.secretName', message: 'secret "s" not found' }),
    );
  });

  it('decodes secret data from base64', () => {
    const secret = { data: { password: Buffer.from('hunter2').toString('base64') } };
    expect(files(secretPayload({ secretName: 's', defaultMode: 0o440 }, secret, 'f'))).toEqual({ password: ['hunter2', '440'] });
    expect(() => secretPayload({ secretName: 's' }, { data: { bad: '!!!' } }, 'f')).toThrow('is not valid base64');
  });

  it('refuses paths that escape or clash, and modes out of range', () => {
    expect(() => validatePayloadPath('/etc/passwd', 'p')).toThrow('invalid path: must be relative path');
    expect(() => validatePayloadPath('a/../../b', 'p')).toThrow("invalid path: must not contain '..'");
    expect(() => validatePayloadPath('..data/x', 'p')).toThrow("invalid path: must not start with '..'");
    expect(validatePayloadPath('./a//b', 'p')).toBe('a/b');
    expect(() =>
      configMapPayload({ name: 'cfg', items: [{ key: 'app.conf', path: 'a' }, { key: 'log.level', path: 'a/b' }] }, cm, 'v'),
    ).toThrow(ProjectionError);
    expect(() => configMapPayload({ name: 'cfg', defaultMode: 0o1777 }, cm, 'spec.volumes[0].configMap')).toThrow(
      expect.objectContaining({ field: 'spec.volumes[0].configMap.defaultMode' }),
    );
  });
});
