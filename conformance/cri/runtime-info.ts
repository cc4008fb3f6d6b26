import assert from 'node:assert/strict';
import { defineSuite } from '../framework/spec.js';

export const runtimeInfoSuite = defineSuite('cri/runtime', [
  {
    title: 'Version names the runtime and speaks CRI v1',
    run: async (ctx) => {
      const version = await ctx.cri.version({ version: 'v1' });
      assert.equal(version.runtimeApiVersion, 'v1');
      assert.ok(version.runtimeName, 'runtimeName is empty');
      assert.ok(version.runtimeVersion, 'runtimeVersion is empty');
      assert.ok(version.version, 'version (the kubelet API version) is empty');
      if (ctx.target.kind === 'containerd') assert.equal(version.runtimeName, 'containerd');
      ctx.log(`${version.runtimeName} ${version.runtimeVersion} (CRI ${version.runtimeApiVersion})`);
    },
  },
  {
    title: 'Status reports RuntimeReady and NetworkReady true',
    run: async (ctx) => {
      const { status } = await ctx.cri.status({ verbose: false });
      assert.ok(status, 'Status returned no status');
      const byType = new Map(status.conditions.map((c) => [c.type, c]));
      for (const type of ['RuntimeReady', 'NetworkReady']) {
        const condition = byType.get(type);
        assert.ok(condition, `condition ${type} missing (got ${[...byType.keys()].join(', ')})`);
        assert.equal(condition.status, true, `${type} is false: ${condition.reason} ${condition.message}`);
      }
    },
  },
]);
