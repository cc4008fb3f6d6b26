/**
 * `$(VAR)` expansion in env values, command and args (upstream third_party/forked/golang/expansion):
 * `$(NAME)` becomes the value when NAME is defined and stays as written otherwise; `$$` is a literal `$`;
 * any other `$` is kept.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        // Unterminated reference: the opener is kept and scanning goes on after it.
        out += '$(';
        i += 2;
        continue;
      }
      const name = input.slice(i + 2, close);
      const value = name === '' ? undefined : lookup(name);
      out += value ?? `$(${name})`;
      i = close + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}
