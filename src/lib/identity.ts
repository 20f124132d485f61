import Joi from 'joi';

/**
 * Indonesian mobile numbers: accepted as +62…, 62… or 08… (spaces, dots and dashes ignored),
 * stored as 08… with 10 to 13 digits in all.
 */
export function normalizeMobile(input: string): string | undefined {
  const digits = input.replace(/[\s.-]/g, '');
  let local: string;
  if (/^\+62\d+$/.test(digits)) local = `0${digits.slice(3)}`;
  else if (/^62\d+$/.test(digits)) local = `0${digits.slice(2)}`;
  else if (/^0\d+$/.test(digits)) local = digits;
  else return undefined;
  return /^08[1-9]\d{7,10}$/.test(local) ? local : undefined;
}

/** joi: a mobile number, normalised to 08… */
export const mobileSchema = Joi.string()
  .max(20)
  .custom((value: string, helpers) => normalizeMobile(value) ?? helpers.error('mobile.invalid'))
  .messages({
    'mobile.invalid': '{{#label}} must be an Indonesian mobile number (+62…, 62… or 08…)',
  });

/**
 * An NIK (Indonesian ID card number): 16 digits, 6 of region, 6 of birth date DDMMYY with 40
 * added to DD for women, 4 of serial. Returns why it is not one, or undefined.
 */
export function nikProblem(nik: string): string | undefined {
  if (!/^\d{16}$/.test(nik)) return 'must be 16 digits';
  const province = Number(nik.slice(0, 2));
  if (province < 11 || province > 96) return 'has no valid province code';
  let day = Number(nik.slice(6, 8));
  const month = Number(nik.slice(8, 10));
  if (day > 40) day -= 40;
  if (month < 1 || month > 12) return 'has no valid birth month';
  const year = 2000 + Number(nik.slice(10, 12)); // the century does not matter for day counts but leap years
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > Math.max(daysInMonth, month === 2 ? 29 : daysInMonth))
    return 'has no valid birth date';
  return undefined;
}

/** joi: an NIK. */
export const nikSchema = Joi.string()
  .custom((value: string, helpers) => {
    const problem = nikProblem(value);
    return problem ? helpers.message({ custom: `{{#label}} ${problem}` }) : value;
  })
  .messages({ 'string.base': '{{#label}} must be a string of 16 digits' });

/** joi: a password of 8-64 characters with at least one letter and one digit. */
export const passwordSchema = Joi.string()
  .min(8)
  .max(64)
  .pattern(/[A-Za-z]/, 'letter')
  .pattern(/\d/, 'digit')
  .messages({
    'string.pattern.name': '{{#label}} is too weak: it needs at least one letter and one digit',
    'string.min': '{{#label}} is too weak: it needs at least 8 characters',
  });
