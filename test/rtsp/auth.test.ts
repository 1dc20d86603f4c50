/**
 * Authorization / WWW-Authenticate parsing and the Digest computation, with the example of
 * RFC 7616 §3.9.1 (user Mufasa, password "Circle of Life", GET /dir/index.html) as the vectors.
 */
import { describe, expect, it } from 'vitest';
import {
  chooseChallenge,
  collectChallenges,
  digestHa1,
  digestResponse,
  formatAuthorization,
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
  parseChallenges,
  MAX_AUTH_HEADER_BYTES,
  MAX_AUTH_PARAMS,
} from '../../src/rtsp/index.ts';

const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  nc: '00000001',
};

// RFC 7616 §3.9.1, the two Authorization headers as printed there (line breaks joined with spaces).
const RFC_MD5 =
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ' +
  'qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
const RFC_SHA256 =
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ' +
  'qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

describe('Authorization: Digest (RFC 7616 §3.9.1)', () => {
  it.each([
    ['MD5', RFC_MD5, '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', RFC_SHA256, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const)('%s: every field parsed exactly, and the response recomputed from the password', (algorithm, header, response) => {
    const r = parseAuthorization(header);
    expect(r).toEqual({
      ok: true,
      value: {
        scheme: 'Digest',
        username: RFC.username,
        realm: RFC.realm,
        nonce: RFC.nonce,
        uri: RFC.uri,
        response,
        algorithm,
        qop: { nc: RFC.nc, cnonce: RFC.cnonce },
        opaque: RFC.opaque,
      },
    });
    const ha1 = digestHa1(algorithm, RFC.username, RFC.realm, RFC.password);
    expect(digestResponse({ algorithm, ha1, nonce: RFC.nonce, method: 'GET', uri: RFC.uri, qop: { nc: RFC.nc, cnonce: RFC.cnonce } })).toBe(
      response,
    );
    // A wrong password or method gives another response.
    expect(
      digestResponse({
        algorithm,
        ha1: digestHa1(algorithm, RFC.username, RFC.realm, 'circle of life'),
        nonce: RFC.nonce,
        method: 'GET',
        uri: RFC.uri,
        qop: { nc: RFC.nc, cnonce: RFC.cnonce },
      }),
    ).not.toBe(response);
  });

  it('HA1 is what an htdigest file holds (hashed apart with hashlib)', () => {
    expect(digestHa1('MD5', RFC.username, RFC.realm, RFC.password)).toBe('3d78807defe7de2157e2b0b6573a855f');
  });

  it('RFC 2069 answer (no qop): H(HA1:nonce:HA2), RFC 2617 §3.5 values', () => {
    // RFC 2617 §3.5's example (6629fae4... with qop=auth); the no-qop expectation was computed apart
    // with Python's hashlib: md5(HA1 + ":" + nonce + ":" + md5("GET:/dir/index.html")).
    const ha1 = digestHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(ha1).toBe('939e7578ed9e3c518a452acee763bce9');
    const withQop = digestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: { nc: '00000001', cnonce: '0a4f113b' },
    });
    expect(withQop).toBe('6629fae49393a05397450978507c4ef1');
    const header =
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="670fd8c2df070c60b045671b8b24ff02"';
    const r = parseAuthorization(header);
    expect(r.ok && r.value.scheme === 'Digest' && r.value.qop === undefined && r.value.algorithm === 'MD5').toBe(true);
    expect(
      digestResponse({ algorithm: 'MD5', ha1, nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html' }),
    ).toBe('670fd8c2df070c60b045671b8b24ff02');
  });

  it('names are case-insensitive, whitespace around "=" and empty list elements are allowed, escapes are undone', () => {
    const r = parseAuthorization(
      'digest  USERNAME = "a\\"b" ,, Realm="r\\\\", nonce=n, uri="rtsp://h/x", response=0123456789abcdef0123456789ABCDEF, ALGORITHM=md5 ,',
    );
    expect(r).toEqual({
      ok: true,
      value: {
        scheme: 'Digest',
        username: 'a"b',
        realm: 'r\\',
        nonce: 'n',
        uri: 'rtsp://h/x',
        response: '0123456789abcdef0123456789abcdef',
        algorithm: 'MD5',
      },
    });
  });

  it('username* (RFC 8187) is decoded', () => {
    const r = parseAuthorization(
      "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef",
    );
    expect(r.ok && r.value.username).toBe('Jäsøn Doe');
  });

  it.each([
    ['Bearer abc', 'AUTH_ERR_SCHEME'],
    ['', 'AUTH_ERR_SCHEME'],
    ['Digest', 'AUTH_ERR_SYNTAX'],
    ['Digest username="x', 'AUTH_ERR_SYNTAX'],
    ['Digest username', 'AUTH_ERR_SYNTAX'],
    ['Digest username=', 'AUTH_ERR_SYNTAX'],
    ['Digest username="a" realm="b"', 'AUTH_ERR_SYNTAX'],
    ['Digest username="a\x01"', 'AUTH_ERR_SYNTAX'],
    ['Digest username=a, username=b', 'AUTH_ERR_DUPLICATE'],
    ['Digest realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef', 'AUTH_ERR_MISSING'],
    ['Digest username=a, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef', 'AUTH_ERR_MISSING'],
    ['Digest username=a, realm=r, uri=u, response=0123456789abcdef0123456789abcdef', 'AUTH_ERR_MISSING'],
    ['Digest username=a, realm=r, nonce=n, response=0123456789abcdef0123456789abcdef', 'AUTH_ERR_MISSING'],
    ['Digest username=a, realm=r, nonce=n, uri=u', 'AUTH_ERR_MISSING'],
    ['Digest username=a, realm=r, nonce=n, uri=u, response=0123', 'AUTH_ERR_BAD_VALUE'],
    ['Digest username=a, realm=r, nonce=n, uri=u, algorithm=SHA-256, response=0123456789abcdef0123456789abcdef', 'AUTH_ERR_BAD_VALUE'],
    ['Digest username=a, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef, qop=auth', 'AUTH_ERR_MISSING'],
    [
      'Digest username=a, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef, qop=auth, nc=1, cnonce=c',
      'AUTH_ERR_BAD_VALUE',
    ],
    [
      'Digest username=a, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef, qop=auth-int, nc=00000001, cnonce=c',
      'AUTH_ERR_UNSUPPORTED',
    ],
    ['Digest username=a, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef, algorithm=MD5-sess', 'AUTH_ERR_UNSUPPORTED'],
    ['Digest username=a, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef, userhash=true', 'AUTH_ERR_UNSUPPORTED'],
    ["Digest username*=latin1''x, realm=r, nonce=n, uri=u, response=0123456789abcdef0123456789abcdef", 'AUTH_ERR_BAD_VALUE'],
    ['Basic', 'AUTH_ERR_SYNTAX'],
    ['Basic !!!!', 'AUTH_ERR_BASE64'],
    ['Basic dXNlcg==', 'AUTH_ERR_BASE64'], // "user": no colon
    ['Basic dXNlcjpwYXNz=', 'AUTH_ERR_BASE64'], // bad padding
  ] as const)('%j → %s', (header, code) => {
    const r = parseAuthorization(header);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });

  it('bounded: a header over MAX_AUTH_HEADER_BYTES and more than MAX_AUTH_PARAMS parameters are refused', () => {
    expect(parseAuthorization(`Digest username="${'a'.repeat(MAX_AUTH_HEADER_BYTES)}"`)).toMatchObject({
      ok: false,
      code: 'AUTH_ERR_TOO_LONG',
    });
    const many = Array.from({ length: MAX_AUTH_PARAMS + 1 }, (_, i) => `p${i}=v`).join(', ');
    expect(parseAuthorization(`Digest ${many}`)).toMatchObject({ ok: false, code: 'AUTH_ERR_TOO_MANY' });
  });
});

describe('Authorization: Basic (RFC 7617 §2.1 example)', () => {
  it('Aladdin:open sesame', () => {
    expect(parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toEqual({
      ok: true,
      value: { scheme: 'Basic', username: 'Aladdin', password: 'open sesame' },
    });
  });
  it('the password may hold colons; the user-id ends at the first', () => {
    const v = Buffer.from('u:p:a:ss').toString('base64');
    expect(parseAuthorization(`basic ${v}`)).toEqual({ ok: true, value: { scheme: 'Basic', username: 'u', password: 'p:a:ss' } });
  });
});

describe('WWW-Authenticate', () => {
  it('our challenges, byte-exact', () => {
    expect(formatDigestChallenge({ realm: 'streamlab', nonce: 'abc', algorithm: 'SHA-256' })).toBe(
      'Digest realm="streamlab", nonce="abc", algorithm=SHA-256, qop="auth"',
    );
    expect(formatDigestChallenge({ realm: 'a"b', nonce: 'n', algorithm: 'MD5', stale: true })).toBe(
      'Digest realm="a\\"b", nonce="n", algorithm=MD5, qop="auth", stale=true',
    );
    expect(formatBasicChallenge('streamlab')).toBe('Basic realm="streamlab"');
  });

  it('several challenges in one value and over several headers; Digest SHA-256 chosen before MD5 before Basic', () => {
    const one = parseChallenges('Basic realm="b", Digest realm="r", nonce="n1", qop="auth,auth-int", Newauth realm="x", Negotiate abc==');
    expect(one.ok && one.value.map((c) => [c.scheme, Object.fromEntries(c.params)])).toEqual([
      ['basic', { realm: 'b' }],
      ['digest', { realm: 'r', nonce: 'n1', qop: 'auth,auth-int' }],
      ['newauth', { realm: 'x' }],
      ['negotiate', {}],
    ]);
    const all = collectChallenges([
      'Basic realm="b"',
      'Digest realm="r", nonce="n-md5", algorithm=MD5, qop="auth"',
      'Digest realm="r", nonce="n-sha", algorithm=SHA-256, qop="auth", stale=TRUE',
      'garbage "',
    ]);
    expect(chooseChallenge(all)).toEqual({
      scheme: 'Digest',
      realm: 'r',
      nonce: 'n-sha',
      algorithm: 'SHA-256',
      qopAuth: true,
      stale: true,
    });
    expect(chooseChallenge(all.filter((c) => c.params.get('nonce') !== 'n-sha'))).toMatchObject({ nonce: 'n-md5', algorithm: 'MD5' });
    expect(chooseChallenge(all.filter((c) => c.scheme === 'basic'))).toMatchObject({ scheme: 'Basic', realm: 'b' });
    expect(chooseChallenge(collectChallenges(['Digest realm="r", nonce="n", qop="auth-int"']))).toBeUndefined();
    expect(chooseChallenge([])).toBeUndefined();
  });

  it("the client's answer reproduces RFC 7616 §3.9.1 and parses back", () => {
    for (const [algorithm, expected] of [
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const) {
      const value = formatAuthorization(
        { scheme: 'Digest', realm: RFC.realm, nonce: RFC.nonce, algorithm, qopAuth: true, opaque: RFC.opaque, stale: false },
        { username: RFC.username, password: RFC.password },
        { method: 'GET', uri: RFC.uri, nc: 1, cnonce: RFC.cnonce },
      );
      expect(value).toBe(
        `Digest username="Mufasa", realm="http-auth@example.org", nonce="${RFC.nonce}", uri="/dir/index.html", algorithm=${algorithm}, ` +
          `response="${expected}", qop=auth, nc=00000001, cnonce="${RFC.cnonce}", opaque="${RFC.opaque}"`,
      );
      expect(parseAuthorization(value)).toMatchObject({ ok: true, value: { response: expected, algorithm } });
    }
    expect(
      formatAuthorization(
        { scheme: 'Basic', realm: 'r', nonce: '', algorithm: 'MD5', qopAuth: false, stale: false },
        { username: 'Aladdin', password: 'open sesame' },
        { method: 'DESCRIBE', uri: 'rtsp://h/', nc: 1, cnonce: '' },
      ),
    ).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });
});
