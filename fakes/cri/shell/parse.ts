/**
 * A parser for the small subset of POSIX sh the fake runtime interprets: what container commands,
 * probes and hooks use in practice. Unsupported syntax is a ShellSyntaxError (the interpreter reports it
 * the way sh does: a message on stderr and exit status 2), never a crash.
 *
 * Grammar (informal):
 *   list     := and_or ((';' | '&' | NEWLINE) and_or)*
 *   and_or   := command (('&&' | '||') command)*
 *   command  := simple | '!' command | '{' list '}' | '(' list ')'
 *             | 'if' list 'then' list ('elif' list 'then' list)* ['else' list] 'fi'
 *             | 'while'|'until' list 'do' list 'done' | 'for' NAME ['in' word*] 'do' list 'done'
 *   simple   := (NAME=word)* word* with redirections > >> 2> 2>> 2>&1 >&2 < anywhere
 */
export type Segment = { readonly text: string; readonly quote: 'none' | 'single' | 'double' };
export type Word = readonly Segment[];

export interface Redirect {
  readonly fd: 1 | 2 | 0;
  readonly op: '>' | '>>' | '<' | 'dup';
  /** Target file word, or for 'dup' the fd duplicated (2>&1 → fd 2 dup 1). */
  readonly target: Word | 1 | 2;
}

export type Command =
  | { readonly type: 'simple'; readonly assigns: readonly (readonly [string, Word])[]; readonly words: readonly Word[]; readonly redirects: readonly Redirect[] }
  | { readonly type: 'not'; readonly command: Command }
  | { readonly type: 'group'; readonly body: List; readonly subshell: boolean }
  | { readonly type: 'if'; readonly branches: readonly { readonly cond: List; readonly body: List }[]; readonly otherwise: List | null }
  | { readonly type: 'loop'; readonly until: boolean; readonly cond: List; readonly body: List }
  | { readonly type: 'for'; readonly name: string; readonly items: readonly Word[] | null; readonly body: List };

export interface AndOr {
  readonly first: Command;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly command: Command }[];
  readonly background: boolean;
}

export type List = readonly AndOr[];

export class ShellSyntaxError extends Error {}

type Token =
  | { readonly kind: 'word'; readonly word: Word }
  | { readonly kind: 'op'; readonly op: string }
  | { readonly kind: 'redir'; readonly fd: 0 | 1 | 2; readonly op: '>' | '>>' | '<' | 'dup'; readonly dupTo?: 1 | 2 };

const OPS = ['&&', '||', ';;', ';', '&', '|', '(', ')', '\n'];

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const redir = /^(?:([012]?)(>>|>&([12])|>|<)|&>)/.exec(src.slice(i, i + 4));
    if (redir && (redir[0] === '&>' || redir[1] !== '' || c === '>' || c === '<')) {
      if (redir[0] === '&>') {
        i += 2;
        const word = readWord();
        if (!word) throw new ShellSyntaxError('syntax error: &> without a file');
        tokens.push({ kind: 'redir', fd: 1, op: '>' }, { kind: 'word', word }, { kind: 'redir', fd: 2, op: 'dup', dupTo: 1 });
        continue;
      }
      const op = redir[2]!;
      const fd = (redir[1] === '' ? (op === '<' ? 0 : 1) : Number(redir[1])) as 0 | 1 | 2;
      i += redir[0].length;
      if (op.startsWith('>&')) tokens.push({ kind: 'redir', fd, op: 'dup', dupTo: Number(redir[3]) as 1 | 2 });
      else tokens.push({ kind: 'redir', fd, op: op as '>' | '>>' | '<' });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      if (op === ';;' || op === '|') throw new ShellSyntaxError(`syntax error: "${op}" is not supported by the fake runtime's shell`);
      tokens.push({ kind: 'op', op });
      i += op.length;
      continue;
    }
    const word = readWord();
    if (!word) throw new ShellSyntaxError(`syntax error near "${c}"`);
    tokens.push({ kind: 'word', word });
  }
  return tokens;

  function readWord(): Word | null {
    while (src[i] === ' ' || src[i] === '\t') i++;
    const segs: Segment[] = [];
    let plain = '';
    const flush = (): void => {
      if (plain) segs.push({ text: plain, quote: 'none' });
      plain = '';
    };
    while (i < src.length) {
      const c = src[i]!;
      if (' \t\r\n;&|()<>'.includes(c)) break;
      if (c === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ShellSyntaxError('syntax error: unterminated quoted string');
        flush();
        segs.push({ text: src.slice(i + 1, end), quote: 'single' });
        i = end + 1;
      } else if (c === '"') {
        flush();
        let text = '';
        i++;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
            text += src[i + 1];
            i += 2;
          } else text += src[i++];
        }
        if (i >= src.length) throw new ShellSyntaxError('syntax error: unterminated quoted string');
        i++;
        segs.push({ text, quote: 'double' });
      } else if (c === '\\') {
        flush();
        if (i + 1 < src.length) segs.push({ text: src[i + 1]!, quote: 'single' });
        i += 2;
      } else if (c === '`' || (c === '$' && src[i + 1] === '(')) {
        throw new ShellSyntaxError('syntax error: command substitution is not supported by the fake runtime\'s shell');
      } else {
        plain += c;
        i++;
      }
    }
    flush();
    return segs.length ? segs : null;
  }
}

const RESERVED = new Set(['if', 'then', 'elif', 'else', 'fi', 'while', 'until', 'do', 'done', 'for', 'in', '{', '}', '!']);

/** The literal text of a word when it is entirely unquoted and expansion-free (reserved-word check). */
function bare(word: Word): string | null {
  if (word.length !== 1 || word[0]!.quote !== 'none') return null;
  return word[0]!.text;
}

export function parseScript(src: string): List {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (op: string): boolean => {
    const t = peek();
    return t?.kind === 'op' && t.op === op;
  };
  const isReserved = (name: string): boolean => {
    const t = peek();
    return t?.kind === 'word' && bare(t.word) === name;
  };
  const expectReserved = (name: string): void => {
    if (!isReserved(name)) throw new ShellSyntaxError(`syntax error: expected "${name}"${describeNext()}`);
    pos++;
  };
  const describeNext = (): string => {
    const t = peek();
    if (!t) return ' before end of script';
    if (t.kind === 'op') return ` near "${t.op === '\n' ? 'newline' : t.op}"`;
    if (t.kind === 'word') return ` near "${t.word.map((s) => s.text).join('')}"`;
    return ' near a redirection';
  };
  const skipNewlines = (): void => {
    while (isOp('\n') || isOp(';')) pos++;
  };

  function parseList(terminators: readonly string[]): List {
    const items: AndOr[] = [];
    skipNewlines();
    while (pos < tokens.length) {
      const t = peek()!;
      if (t.kind === 'word' && terminators.includes(bare(t.word) ?? '')) break;
      if (t.kind === 'op' && t.op === ')' && terminators.includes(')')) break;
      const andOr = parseAndOr();
      let background = false;
      if (isOp('&')) {
        background = true;
        pos++;
      } else if (isOp(';') || isOp('\n')) {
        pos++;
      } else if (pos < tokens.length) {
        const n = peek()!;
        const endsHere = (n.kind === 'word' && terminators.includes(bare(n.word) ?? '')) || (n.kind === 'op' && n.op === ')');
        if (!endsHere) throw new ShellSyntaxError(`syntax error${describeNext()}`);
      }
      items.push({ ...andOr, background });
      skipNewlines();
    }
    return items;
  }

  function parseAndOr(): Omit<AndOr, 'background'> {
    const first = parseCommand();
    const rest: { op: '&&' | '||'; command: Command }[] = [];
    while (isOp('&&') || isOp('||')) {
      const op = (peek() as { op: '&&' | '||' }).op;
      pos++;
      while (isOp('\n')) pos++;
      rest.push({ op, command: parseCommand() });
    }
    return { first, rest };
  }

  function parseCommand(): Command {
    const t = peek();
    if (!t) throw new ShellSyntaxError('syntax error: unexpected end of script');
    if (t.kind === 'op') {
      if (t.op === '(') {
        pos++;
        const body = parseList([')']);
        if (!isOp(')')) throw new ShellSyntaxError(`syntax error: expected ")"${describeNext()}`);
        pos++;
        return { type: 'group', body, subshell: true };
      }
      throw new ShellSyntaxError(`syntax error${describeNext()}`);
    }
    const word = t.kind === 'word' ? bare(t.word) : null;
    switch (word) {
      case '!':
        pos++;
        return { type: 'not', command: parseCommand() };
      case '{': {
        pos++;
        const body = parseList(['}']);
        expectReserved('}');
        return { type: 'group', body, subshell: false };
      }
      case 'if': {
        pos++;
        const branches: { cond: List; body: List }[] = [];
        let otherwise: List | null = null;
        for (;;) {
          const cond = parseList(['then']);
          expectReserved('then');
          const body = parseList(['elif', 'else', 'fi']);
          branches.push({ cond, body });
          if (isReserved('elif')) {
            pos++;
            continue;
          }
          if (isReserved('else')) {
            pos++;
            otherwise = parseList(['fi']);
          }
          expectReserved('fi');
          return { type: 'if', branches, otherwise };
        }
      }
      case 'while':
      case 'until': {
        pos++;
        const cond = parseList(['do']);
        expectReserved('do');
        const body = parseList(['done']);
        expectReserved('done');
        return { type: 'loop', until: word === 'until', cond, body };
      }
      case 'for': {
        pos++;
        const nameTok = peek();
        const name = nameTok?.kind === 'word' ? bare(nameTok.word) : null;
        if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ShellSyntaxError(`syntax error: bad for loop variable${describeNext()}`);
        pos++;
        let items: Word[] | null = null;
        while (isOp('\n')) pos++;
        if (isReserved('in')) {
          pos++;
          items = [];
          while (peek()?.kind === 'word' && !isReserved('do')) items.push((tokens[pos++] as { word: Word }).word);
        }
        skipNewlines();
        expectReserved('do');
        const body = parseList(['done']);
        expectReserved('done');
        return { type: 'for', name, items, body };
      }
      case 'then':
      case 'elif':
      case 'else':
      case 'fi':
      case 'do':
      case 'done':
      case 'in':
      case '}':
        throw new ShellSyntaxError(`syntax error: unexpected "${word}"`);
      default:
        return parseSimple();
    }
  }

  function parseSimple(): Command {
    const assigns: (readonly [string, Word])[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const t = peek();
      if (!t || t.kind === 'op') break;
      if (t.kind === 'redir') {
        pos++;
        if (t.op === 'dup') {
          redirects.push({ fd: t.fd, op: 'dup', target: t.dupTo! });
          continue;
        }
        const target = peek();
        if (target?.kind !== 'word') throw new ShellSyntaxError('syntax error: redirection without a file');
        pos++;
        redirects.push({ fd: t.fd, op: t.op, target: target.word });
        continue;
      }
      const text = bare(t.word);
      const assign = words.length === 0 && t.word[0]?.quote === 'none' ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(t.word[0].text) : null;
      if (assign) {
        const first = t.word[0]!;
        const value: Segment[] = [{ text: first.text.slice(assign[0].length), quote: 'none' }, ...t.word.slice(1)];
        assigns.push([assign[1]!, value.filter((s) => s.text !== '' || s.quote !== 'none')]);
        pos++;
        continue;
      }
      if (words.length > 0 || !RESERVED.has(text ?? '')) {
        words.push(t.word);
        pos++;
        continue;
      }
      break;
    }
    if (words.length === 0 && assigns.length === 0 && redirects.length === 0) {
      throw new ShellSyntaxError(`syntax error${describeNext()}`);
    }
    return { type: 'simple', assigns, words, redirects };
  }

  const list = parseList([]);
  if (pos < tokens.length) throw new ShellSyntaxError(`syntax error${describeNext()}`);
  return list;
}
