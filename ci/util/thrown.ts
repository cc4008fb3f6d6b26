/**
 * The error `fn` throws when it is a `type` (tests assert on its fields); anything else it throws is
 * rethrown, and not throwing at all is an error naming what was expected.
 */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}
