import { Kind, type TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.js';
import { envNameOf, schemaLeaves } from './load.js';

function typeOf(s: TSchema): string {
  const kind = s[Kind] as string;
  if (kind === 'Union') return (s.anyOf as TSchema[]).map((x) => `\`${x.const}\``).join(' \\| ');
  if (kind === 'Array') return `list of ${typeOf(s.items as TSchema)}`;
  if (kind === 'Record') return 'map';
  if (kind === 'String' && String(s.pattern ?? '').includes('ms|s|m|h|d')) return 'duration';
  return kind.toLowerCase();
}

const fmt = (v: unknown) => (v === undefined ? '' : `\`${JSON.stringify(v)}\``);

/** docs/configuration.md, rendered from the schema (npm run docs:config writes it; a test checks it). */
export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; a test fails when it is stale. -->',
    '',
    'Vigil reads one schema from three places. Precedence: **command-line flags > `VIGIL_*` environment > YAML file > defaults**.',
    '',
    '- YAML file: `vigil server -c vigil.yaml` (or `VIGIL_CONFIG=vigil.yaml`), nested as the keys below.',
    '- Environment: `VIGIL_` + the key in upper snake case, e.g. `server.bodyLimitBytes` → `VIGIL_SERVER_BODY_LIMIT_BYTES`. Lists take JSON or comma-separated values. Short aliases: `VIGIL_ADMIN_TOKEN`, `VIGIL_DATABASE_URL`, `VIGIL_REDIS_URL`, `VIGIL_NATS_URL`, `VIGIL_DATA_DIR`.',
    '- Flags: `--host`, `--port`, `--data-dir`, `--database-url`, `--redis-url`, `--nats-url`, `--log-level`, and `--set key=value` for any key.',
    '',
    'An invalid value stops the program with exit code 2 and a message naming the key, the value and the expected type. `vigil config print` shows the effective configuration with secrets masked.',
    '',
  ];
  for (const [section, schema] of Object.entries(ConfigSchema.properties as Record<string, TSchema>)) {
    const leaves = schemaLeaves(schema, section);
    lines.push(`## \`${section}\`${schema.description ? ` — ${schema.description}` : ''}`, '');
    lines.push('| key | env | type | default | description |', '|---|---|---|---|---|');
    for (const { key, schema: s } of leaves) {
      const desc = `${s.description ?? ''}${s.secret ? ' (secret: masked in `config print`)' : ''}`.replaceAll('|', '\\|');
      lines.push(`| \`${key}\` | \`${envNameOf(key)}\` | ${typeOf(s)} | ${fmt(s.default)} | ${desc} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
