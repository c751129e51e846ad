/**
 * Create or edit a policy as YAML. The server validates; its 400 names the bad value by JSON path,
 * which is mapped back to the line of the text, marked in the gutter and selected in the textarea.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client';
import { faultPaths } from './api';
import { useSendPolicy } from './useSendPolicy';
import { lineOfField, yamlSyntaxError } from './yamlLine';

export const NEW_POLICY_YAML = `metadata:
  name: "abort-policy"
spec:
  selector:
    service: frontend
    namespace: demo
  rules:
    - match:
        method:
          exact: "GET"
        path:
          exact: "/"
      fault:
        percentage: 100
        abort:
          httpStatus: 503
`;

interface EditorError {
  message: string;
  field?: string;
  line: number | null;
}

/** The 1-based line's [start, end) offsets in `text`. */
function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return [text.length, text.length];
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return [start, end < 0 ? text.length : end];
}

export function PolicyEditor({ initial, editing, onDone, onCancel }: { initial: string; editing: string | null; onDone: (name: string, warnings: string[]) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<EditorError | null>(null);
  const [busy, setBusy] = useState(false);
  const send = useSendPolicy();
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = useMemo(() => text.split('\n').length, [text]);

  useEffect(() => setText(initial), [initial]);

  const showError = (e: EditorError) => {
    setError(e);
    const ta = area.current;
    if (ta && e.line !== null) {
      const [a, b] = lineRange(text, e.line);
      ta.focus();
      ta.setSelectionRange(a, b);
    }
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const syntax = yamlSyntaxError(text);
    if (syntax) return showError({ message: `malformed YAML: ${syntax.message}`, line: syntax.line });
    setBusy(true);
    try {
      const r = await send.mutateAsync(editing ? { method: 'PUT', path: faultPaths.one(editing), yaml: text } : { method: 'POST', path: faultPaths.create, yaml: text });
      setError(null);
      const name = /^\s*name:\s*["']?([A-Za-z0-9_-]+)/m.exec(text)?.[1] ?? editing ?? '';
      onDone(name, r.warnings);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'client', String(err), faultPaths.policies);
      const fromMessage = /at line (\d+)/.exec(e.message);
      const line = e.field ? lineOfField(text, e.field) : fromMessage ? Number(fromMessage[1]) : null;
      showError({ message: e.message, field: e.field, line });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="fault-editor" onSubmit={(e) => void submit(e)} data-testid="policy-editor">
      <div className="fault-editor-body">
        <div className="fault-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, i) => (
            <div key={i} className={error?.line === i + 1 ? 'fault-gutter-bad' : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          ref={area}
          className="fault-yaml mono"
          value={text}
          spellCheck={false}
          aria-label="Policy YAML"
          aria-invalid={error ? true : undefined}
          rows={Math.min(28, Math.max(12, lineCount + 1))}
          onScroll={(e) => gutter.current && (gutter.current.scrollTop = e.currentTarget.scrollTop)}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      {error && (
        <div className="inline-error fault-yaml-error" role="alert" data-testid="yaml-error" data-line={error.line ?? ''}>
          {error.line !== null && <strong>Line {error.line}: </strong>}
          {error.field && <code>{error.field}</code>} {error.message}
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="policy-save">
          {editing ? `Save ${editing}` : 'Create policy'}
        </button>
      </div>
    </form>
  );
}
