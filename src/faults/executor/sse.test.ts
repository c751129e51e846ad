import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.js';

function parse(chunks: string[]) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const p = new SseParser((e) => events.push(e), (c) => comments.push(c));
  for (const c of chunks) p.push(c);
  return { events, comments };
}

describe('SseParser', () => {
  it('parses HFI\'s stream: a keepalive, full_config with an id, then an update', () => {
    const { events, comments } = parse([': keepalive\n\n', 'id: 7\nevent: full_config\ndata: [{"a":1}]\n\n', 'event: update\ndata: []\n\n']);
    expect(comments).toEqual(['keepalive']);
    expect(events).toEqual([
      { event: 'full_config', data: '[{"a":1}]', id: '7' },
      { event: 'update', data: '[]', id: '7' },
    ]);
  });

  it('reassembles events split anywhere, including between \\r and \\n', () => {
    const text = 'event: update\r\ndata: [1,\r\ndata: 2]\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = parse([text.slice(0, cut), text.slice(cut)]);
      expect(events).toEqual([{ event: 'update', data: '[1,\n2]' }]);
    }
  });

  it('defaults the event name to message and drops events without data', () => {
    const { events } = parse(['data:x\n\nevent: update\n\n']);
    expect(events).toEqual([{ event: 'message', data: 'x' }]);
  });
});
