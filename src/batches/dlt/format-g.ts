/**
 * C's printf "%g" (precision 6) for a double, as glibc prints it: round half to even on the
 * exact binary value, trailing zeros removed, exponent with at least two digits, inf/nan.
 */
export function formatG(x: number, negativeSign = x < 0 || Object.is(x, -0)): string {
  if (Number.isNaN(x)) return negativeSign ? '-nan' : 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return negativeSign ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  const { digits, exp } = round6(a);
  // digits: exactly 6 significant digits; value = 0.d1d2..d6 × 10^(exp+1), i.e. d1.d2.. × 10^exp
  if (exp < -4 || exp >= 6) {
    let mant = digits[0] + '.' + digits.slice(1);
    mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const e = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  let s: string;
  if (exp >= 0) s = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  else s = '0.' + '0'.repeat(-exp - 1) + digits;
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return sign + s;
}

/** Six significant digits of a > 0 rounded half-to-even, and the decimal exponent of the first. */
function round6(a: number): { digits: string; exp: number } {
  // toExponential rounds correctly except on an exact tie, where it rounds up and C to even.
  // A tie shows as a 7th significant digit of 5; below 1e-4 (and above 1e21) a tie at the
  // 6th digit cannot be an exact double.
  if (a < 1e-4 || a >= 1e21 || a.toExponential(6).charCodeAt(7) !== 53) {
    const [m, e] = a.toExponential(5).split('e');
    return { digits: m[0] + m.slice(2), exp: Number(e) };
  }
  // toFixed is exact to 100 places; 30 fraction digits show whether the tail is exactly a half.
  const fixed = a.toFixed(30);
  const dot = fixed.indexOf('.');
  const all = fixed.slice(0, dot) + fixed.slice(dot + 1);
  let first = 0;
  while (all[first] === '0') first++;
  const exp = dot - 1 - first;
  const head = all.slice(first, first + 6).padEnd(6, '0');
  const tail = all.slice(first + 6);
  let n = Number(head);
  const t0 = tail.charCodeAt(0) - 48;
  if (t0 > 5 || (t0 === 5 && (/[1-9]/.test(tail.slice(1)) || n % 2 === 1))) n++;
  if (n === 1_000_000) return { digits: '100000', exp: exp + 1 };
  return { digits: String(n), exp };
}
