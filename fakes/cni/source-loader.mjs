// Lets Node run the plugin straight from its TypeScript sources (type stripping, Node >= 22.18):
// the sources import siblings as `./x.js`, which only exist as `./x.ts` in a checkout.
import module from 'node:module';

function resolve(specifier, context, nextResolve) {
  try {
    return nextResolve(specifier, context);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return nextResolve(specifier.replace(/\.js$/, '.ts'), context);
    }
    throw err;
  }
}

module.registerHooks({ resolve });
