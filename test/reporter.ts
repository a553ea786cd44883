/**
 * The spec reporter, plus a closing line saying how many tests were skipped and why. A test
 * skips when what it needs is absent (../shared data, a sourced ROS 2, the sample fleet); the
 * reason is in its suite's title ("… (needs ../shared/real-recordings)"), so pending tests are
 * counted per top-level suite and that title is printed.
 */
import Mocha from "mocha";

const { EVENT_RUN_END, EVENT_TEST_PENDING } = Mocha.Runner.constants;

export default class SpecWithSkips extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const skipped = new Map<string, number>();
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      let suite = test.parent;
      while (suite?.parent !== undefined && !suite.parent.root) suite = suite.parent;
      const title = suite?.title || "(root)";
      skipped.set(title, (skipped.get(title) ?? 0) + 1);
    });
    runner.once(EVENT_RUN_END, () => {
      const total = [...skipped.values()].reduce((a, b) => a + b, 0);
      if (total === 0) {
        process.stdout.write("  skipped: none\n");
        return;
      }
      process.stdout.write(`  skipped: ${total} test${total === 1 ? "" : "s"}, each for something it needs that is absent here (named in its suite):\n`);
      for (const [title, n] of [...skipped].sort((a, b) => b[1] - a[1])) process.stdout.write(`    ${String(n).padStart(3)}  ${title}\n`);
    });
  }
}
