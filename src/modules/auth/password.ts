import { hash, verify } from '@node-rs/argon2';

// argon2id, memory-hard; parameters are the library's defaults (OWASP's minimum: 19 MiB, t=2).
export const hashPassword = (password: string): Promise<string> => hash(password);

let dummy: Promise<string> | undefined;

/** Verifies a password; with no stored hash it still spends the same time (no user enumeration). */
export async function verifyPassword(
  stored: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (!stored) {
    dummy ??= hash('no-such-user-placeholder');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
