/**
 * `npm run plans:record`: records the offline plans of modules/rds (dev, staging, prod) under test/rds/__plans__,
 * the expectation test/rds/plan-equivalence.test.ts holds the module to. Run it only for a change meant to alter
 * what the module plans, and review the diff of the recorded plans as the change's effect.
 */
import { writeFileSync } from 'node:fs';
import { EnvironmentName } from '../src/config/environments';
import { planExamples, planFile, planText } from '../test/support/module-plan';

async function main(): Promise<void> {
  const plans = await planExamples();
  for (const [environment, plan] of Object.entries(plans)) {
    writeFileSync(planFile(environment as EnvironmentName), planText(plan));
    console.log(`recorded ${planFile(environment as EnvironmentName)}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
