/** Jest's side of running Terraform offline; the runner itself is scripts/offline/terraform.ts. */
import { terraformUnavailableReason } from '../../scripts/offline/terraform';

export {
  mirroredProviders,
  offlineModuleCopy,
  OFFLINE_RANDOM_STAND_INS,
  PROVIDER_MIRROR,
  terraform,
  terraformEnv,
  terraformOk,
  terraformUnavailableReason,
} from '../../scripts/offline/terraform';

/**
 * `describe` when Terraform can run. Otherwise, on a developer's machine, `describe.skip` with the reason printed
 * once; under CI=true, a single failing test whose message is the reason, so CI cannot go green without them.
 */
export function describeWithTerraform(name: string, body: () => void): void {
  const reason = terraformUnavailableReason();
  if (!reason) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('terraform and the provider mirror are available (CI=true)', () => {
        const error = new Error(`CI=true but the Terraform tests cannot run: ${reason}`);
        error.stack = error.message; // the reason is the whole message
        throw error;
      });
    });
  } else {
    console.warn(`SKIPPED "${name}": ${reason}`);
    describe.skip(name, body);
  }
}
