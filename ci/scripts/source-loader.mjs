// Runs the project's TypeScript sources directly under Node (with --experimental-transform-types): sources import
// their siblings as `./name.js`, which exists only as `./name.ts` in a checkout, so a failed relative `.js`
// resolution is retried with `.ts`.
// Usage: node --experimental-transform-types --import ./ci/scripts/source-loader.mjs some/entry.ts
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const relativeJs = /^\.{1,2}\/.*\.js$/.test(specifier);
      if (!relativeJs || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
  },
});
