// Preload that moves this Node process's wall clock: node -r ./skew-clock.cjs <script> ...
// The shift in milliseconds comes from REPOLOCK_TEST_CLOCK_SKEW_MS (positive: ahead, negative: behind).
// proper-lockfile writes lock mtimes from Date (utimes with new Date()), so a holder run with this preload refreshes its lock
// with a skewed clock, like a worker on a host whose clock is off. Timers and the file system are untouched.
'use strict';

const skew = Number(process.env.REPOLOCK_TEST_CLOCK_SKEW_MS || 0);
if (!Number.isFinite(skew)) {
  throw new Error(`REPOLOCK_TEST_CLOCK_SKEW_MS must be a number, got '${process.env.REPOLOCK_TEST_CLOCK_SKEW_MS}'`);
}

const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) {
      super(RealDate.now() + skew);
    } else {
      super(...args);
    }
  }

  static now() {
    return RealDate.now() + skew;
  }
}

globalThis.Date = SkewedDate;
