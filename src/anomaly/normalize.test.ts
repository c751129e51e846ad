import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { createNormalizer, looksLikeId, normalizeEndpoint as n } from './normalize.js';

describe('built-in endpoint normalisation', () => {
  it('collapses numeric and hex ids in paths', () => {
    expect(n('GET /users/123/orders/9f1c2b7e4d')).toBe('GET /users/{id}/orders/{id}');
  });

  it('collapses UUIDs, ULIDs, e-mail addresses and long opaque tokens', () => {
    expect(n('DELETE /carts/3F2504E0-4F89-11D3-9A0C-0305E82C3301/items/7')).toBe('DELETE /carts/{id}/items/{id}');
    expect(n('GET /files/01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe('GET /files/{id}');
    expect(n('GET /users/ann@example.com/settings')).toBe('GET /users/{id}/settings');
    expect(n('GET /share/aZ3kQ9_xP2mL8vR4tY7wB1')).toBe('GET /share/{id}');
  });

  it('drops query strings and fragments and collapses slashes', () => {
    expect(n('GET /search?q=shoes&page=2')).toBe('GET /search');
    expect(n('GET //api///items/42/#top')).toBe('GET /api/items/{id}');
    expect(n('GET /')).toBe('GET /');
    expect(n('GET /?a=1')).toBe('GET /');
  });

  it('keeps names, versions, route templates and short hex-looking words', () => {
    expect(n('GET /v2/items')).toBe('GET /v2/items');
    expect(n('GET /users/:id')).toBe('GET /users/:id');
    expect(n('GET /users/{userId}/cafe')).toBe('GET /users/{userId}/cafe');
    expect(n('GET /colors/deadbeef')).toBe('GET /colors/deadbeef');
    expect(n('checkout.process')).toBe('checkout.process');
    expect(n('grpc.health.v1.Health/Check')).toBe('grpc.health.v1.Health/Check');
  });

  it('normalises the path of full URLs and bare ids in names', () => {
    expect(n('GET https://api.example.com/users/42?x=1')).toBe('GET https://api.example.com/users/{id}');
    expect(n('process order 12345')).toBe('process order {id}');
  });

  it('is idempotent, trims whitespace, names empty spans and bounds the length', () => {
    const once = n('  GET   /users/123  ');
    expect(once).toBe('GET /users/{id}');
    expect(n(once)).toBe(once);
    expect(n('')).toBe('(unnamed)');
    const long = n('GET /' + 'a'.repeat(500));
    expect(long.length).toBe(200);
    expect(long.endsWith('…')).toBe(true);
  });

  it('looksLikeId', () => {
    expect(looksLikeId('123')).toBe(true);
    expect(looksLikeId('abc123def')).toBe(true);
    expect(looksLikeId('abc')).toBe(false);
    expect(looksLikeId('v1')).toBe(false);
    expect(looksLikeId('')).toBe(false);
  });
});

describe('configured rules', () => {
  it('run before the built-ins, in order, with capture groups', () => {
    const norm = createNormalizer({
      rules: [
        { pattern: '^(GET|POST) /legacy/.*$', replacement: '$1 /legacy/*' },
        { pattern: '/tenants/[a-z]+/', replacement: '/tenants/{tenant}/' },
      ],
    });
    expect(norm('GET /legacy/a/b/123')).toBe('GET /legacy/*');
    expect(norm('GET /tenants/acme/users/9')).toBe('GET /tenants/{tenant}/users/{id}');
  });

  it('can replace the built-ins and the placeholder', () => {
    expect(createNormalizer({ builtins: false })('GET /users/1')).toBe('GET /users/1');
    expect(createNormalizer({ placeholder: ':id' })('GET /users/1')).toBe('GET /users/:id');
  });

  it('reject a bad regular expression naming the rule', () => {
    try {
      createNormalizer({ rules: [{ pattern: '/ok/', replacement: 'x' }, { pattern: '([', replacement: 'x' }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe('normalizeRules[1].pattern');
    }
  });
});
