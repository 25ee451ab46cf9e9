/** Unit tests for the Wilson interval and the rate verdicts. */
import { equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { geometricTail, rateAgreement, wilsonInterval } from "./binomial.ts";

const close = (actual: number, expected: number, digits = 4) =>
  ok(Math.abs(actual - expected) < 10 ** -digits, `${actual} != ${expected}`);

Deno.test("wilsonInterval() matches published values", () => {
  // 95 % Wilson intervals as R's binom::binom.confint(method = "wilson") prints them.
  let interval = wilsonInterval(5, 10, 0.95);
  close(interval.low, 0.2365931);
  close(interval.high, 0.7634069);
  interval = wilsonInterval(1, 10, 0.95);
  close(interval.low, 0.01787574);
  close(interval.high, 0.40415612);
  interval = wilsonInterval(0, 10, 0.95);
  equal(interval.low, 0);
  close(interval.high, 0.2775328);
  interval = wilsonInterval(10, 10, 0.95);
  close(interval.low, 0.7224672);
  equal(interval.high, 1);
});

Deno.test("wilsonInterval() contains the observed rate and narrows with more trials", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
      const k = Math.round(n * p);
      const interval = wilsonInterval(k, n);
      ok(interval.low <= k / n + 1e-12 && k / n <= interval.high + 1e-12);
      ok(interval.low >= 0 && interval.high <= 1);
      const wider = wilsonInterval(k, n, 0.95);
      ok(wider.high - wider.low <= interval.high - interval.low + 1e-12, "99.9% is wider than 95%");
    }),
  );
  const small = wilsonInterval(3, 10);
  const large = wilsonInterval(300, 1000);
  ok(large.high - large.low < small.high - small.low);
});

Deno.test("wilsonInterval() covers the true rate at least nearly as often as it claims", () => {
  // Exact coverage from the binomial pmf, for the sizes chaos runs use.
  for (const n of [20, 40, 100]) {
    for (const p of [0.1, 0.3, 0.5, 0.9]) {
      let coverage = 0;
      let pmf = Math.pow(1 - p, n);
      for (let k = 0; k <= n; k++) {
        const interval = wilsonInterval(k, n, 0.95);
        if (p >= interval.low && p <= interval.high) coverage += pmf;
        pmf *= ((n - k) / (k + 1)) * (p / (1 - p));
      }
      ok(coverage > 0.92, `coverage ${coverage} at n=${n} p=${p}`);
    }
  }
});

Deno.test("wilsonInterval() rejects impossible counts", () => {
  throws(() => wilsonInterval(11, 10), RangeError);
  throws(() => wilsonInterval(-1, 10), RangeError);
  throws(() => wilsonInterval(1.5, 10), RangeError);
  throws(() => wilsonInterval(1, 10, 0.5), RangeError);
  equal(wilsonInterval(0, 0).high, 1);
});

Deno.test("rateAgreement() accepts plausible counts and rejects a broken rate", () => {
  ok(rateAgreement(12, 40, 30).agrees);
  ok(rateAgreement(4, 40, 10).agrees);
  // Twice the requested rate over 200 checks is far outside.
  const doubled = rateAgreement(120, 200, 30);
  equal(doubled.agrees, false);
  ok(doubled.reason.includes("outside"));
  // A point that never fires although rate 30 was set.
  equal(rateAgreement(0, 100, 30).agrees, false);
});

Deno.test("rateAgreement() is exact at 0 and 100 and refuses zero checks", () => {
  ok(rateAgreement(0, 40, 0).agrees);
  equal(rateAgreement(1, 40, 0).agrees, false);
  ok(rateAgreement(40, 40, 100).agrees);
  equal(rateAgreement(39, 40, 100).agrees, false);
  const none = rateAgreement(0, 0, 30);
  equal(none.agrees, false);
  ok(none.reason.includes("never reached"));
});

Deno.test("geometricTail() is the chance the first injection comes this late", () => {
  equal(geometricTail(1, 10), 1);
  close(geometricTail(2, 10), 0.9);
  close(geometricTail(11, 50), 0.5 ** 10);
  equal(geometricTail(5, 100), 0);
  throws(() => geometricTail(0, 10), RangeError);
});
