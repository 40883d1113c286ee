/**
 * A vitest reporter for mutation testing only (stryker/vitest.config.mjs). StrykerJS's vitest runner counts
 * failed *tests*; a test file (or describe block) that throws while it is being collected has no tests, so a
 * mutant that breaks code run at collection time (fixtures built in a describe body, a kernel module
 * assembled at import) would count as survived. This reporter turns such a collection error into one
 * failing test of that file or suite, which Stryker then sees. Without a mutant nothing fails, so it adds
 * nothing to a normal run.
 */
function hasFailingTest(task) {
  if (task.type === 'test') return task.result?.state === 'fail';
  return (task.tasks ?? []).some(hasFailingTest);
}

function hasTests(task) {
  return task.type === 'test' || (task.tasks ?? []).some(hasTests);
}

/** Adds a failing test to every failed suite (the file included) that has no test left to fail. */
function addCollectionFailures(suite, file) {
  for (const task of suite.tasks ?? []) if (task.type === 'suite') addCollectionFailures(task, file);
  if (suite.result?.state !== 'fail' || hasFailingTest(suite)) return;
  if (hasTests(suite) && suite.type !== 'suite') return;
  const errors = suite.result.errors ?? [{ message: 'collection failed' }];
  suite.tasks = [...(suite.tasks ?? []), {
    type: 'test', id: `${suite.id}_collection`, name: '(collection failed)', mode: 'run', file, suite, meta: {},
    result: { state: 'fail', errors, duration: 0 },
  }];
}

export default class CollectionErrorsReporter {
  onTestRunEnd(testModules) {
    const files = testModules.map((module) => module.task);
    for (const file of files ?? []) addCollectionFailures(file, file);
  }
}
