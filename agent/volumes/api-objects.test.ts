import { afterEach, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { kubeClientsFromString } from '../api/kube-client.js';
import { apiVolumeObjectSource } from './api-objects.js';

let api: MockApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('volume objects from the API server', () => {
  it('reads ConfigMaps, Secrets, PVCs and PVs, and answers null for missing ones', async () => {
    api = await startMockApiServer({});
    const clients = kubeClientsFromString(api.kubeconfig());
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { a: '1' } } });
    await clients.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's' }, data: { k: Buffer.from('v').toString('base64') } } });
    await clients.core.createPersistentVolume({
      body: { metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], csi: { driver: 'd.example.com', volumeHandle: 'h1' } } },
    });
    await clients.core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: { metadata: { name: 'claim' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv1' } },
    });
    const source = apiVolumeObjectSource(clients);
    expect((await source.getConfigMap('default', 'cfg'))?.data).toEqual({ a: '1' });
    expect((await source.getSecret('default', 's'))?.data).toEqual({ k: Buffer.from('v').toString('base64') });
    expect((await source.getPersistentVolume('pv1'))?.spec?.csi?.volumeHandle).toBe('h1');
    expect((await source.getPersistentVolumeClaim('default', 'claim'))?.spec?.volumeName).toBe('pv1');
    expect(await source.getConfigMap('default', 'nope')).toBeNull();
    expect(await source.getPersistentVolume('nope')).toBeNull();
  });

  it('answers null for everything without an API server', async () => {
    const source = apiVolumeObjectSource(null);
    expect(await source.getSecret('default', 's')).toBeNull();
    expect(await source.getPersistentVolumeClaim('default', 'c')).toBeNull();
  });
});
