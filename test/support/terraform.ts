/** Jest's side of running Terraform offline; the runner itself is scripts/offline/terraform.ts. */
import { terraformUnavailableReason } from '../../scripts/offline/terraform';
import { describeWithTool } from './skip';

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

/** `describe` when Terraform and the provider mirror are here (see describeWithTool for the other cases). */
export function describeWithTerraform(name: string, body: () => void): void {
  describeWithTool(name, terraformUnavailableReason(), body, 'the Terraform tests');
}
