import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * PII at rest: AES-256-GCM ciphertexts ("v1.<iv>.<tag>.<data>", base64url) and HMAC-SHA256
 * lookup hashes (for uniqueness without decrypting). Both keys derive from one master key by
 * HKDF, so that a leaked lookup hash says nothing about the encryption key.
 */
export class PiiCipher {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(masterKeyHex: string) {
    const master = Buffer.from(masterKeyHex, 'hex');
    if (master.length !== 32) throw new Error('PII master key must be 32 bytes');
    this.encKey = Buffer.from(
      hkdfSync('sha256', master, Buffer.alloc(0), 'p2p pii encryption v1', 32),
    );
    this.macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'p2p pii lookup v1', 32));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  decrypt(token: string): string {
    const [version, iv, tag, data] = token.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined)
      throw new Error('unknown ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(data, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }

  /** Deterministic keyed hash for unique indexes and look-ups. */
  lookupHash(value: string): string {
    return createHmac('sha256', this.macKey).update(value).digest('hex');
  }
}

/** An opaque random token (sessions, captcha ids). */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

export const sha256Hex = (value: string | Buffer) =>
  createHash('sha256').update(value).digest('hex');

/** Constant-time string comparison (lengths hashed away). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

/** HMAC-SHA256 hex of `${timestamp}.${body}`: the signature scheme of partner and gateway calls. */
export const signPayload = (secret: string, timestamp: string | number, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
