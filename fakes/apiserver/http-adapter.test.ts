import { describe, expect, it } from 'vitest';
import { jsonText } from './http-adapter.js';

describe('jsonText', () => {
  const text = JSON.stringify({ kind: 'Pod', metadata: { name: 'p' } });

  it('answers in process with its text through text(), json(), the body stream and bytes', async () => {
    const response = jsonText(text, 201, { 'content-type': 'application/json', 'x-extra': '1' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-extra')).toBe('1');
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe(text);
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);

    expect(await jsonText(text).json()).toEqual({ kind: 'Pod', metadata: { name: 'p' } });
    const streamed = await new Response(jsonText(text).body).text();
    expect(streamed).toBe(text);
    expect(new TextDecoder().decode(await jsonText(text).bytes())).toBe(text);
    expect(await (await jsonText(text).blob()).text()).toBe(text);
  });

  it('clones into an independent answer, and refuses to clone a read one as Response does', async () => {
    const response = jsonText(text, 404);
    const copy = response.clone();
    expect(copy.status).toBe(404);
    expect(await copy.text()).toBe(text);
    expect(await response.text()).toBe(text);
    expect(() => response.clone()).toThrow(TypeError);
  });
});
