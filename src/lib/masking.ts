/** Masks PII for output and logs. Every masker keeps just enough to recognise the value. */

/** 081234565678 → 0812****5678 */
export function maskMobile(mobile: string): string {
  if (mobile.length <= 8) return '*'.repeat(mobile.length);
  return `${mobile.slice(0, 4)}${'*'.repeat(mobile.length - 8)}${mobile.slice(-4)}`;
}

/** 3175066301950004 → 3175********0004 */
export function maskIdCard(nik: string): string {
  if (nik.length <= 8) return '*'.repeat(nik.length);
  return `${nik.slice(0, 4)}${'*'.repeat(nik.length - 8)}${nik.slice(-4)}`;
}

/** 4111111111111234 → ****1234 */
export function maskCard(cardNo: string): string {
  return `****${cardNo.slice(-4)}`;
}

/** "Rina Herlina" → "R*** H******" */
export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => `${w[0]}${'*'.repeat(Math.max(w.length - 1, 1))}`)
    .join(' ');
}

/** Masks any long digit run in free text (card and ID numbers that slipped into a message). */
export function maskDigitRuns(text: string): string {
  return text.replace(/\d{13,19}/g, (d) => maskIdCard(d));
}
