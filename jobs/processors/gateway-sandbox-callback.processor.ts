import { deliverSandboxCallback } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** The sandbox gateway's signed callback to this API. */
export const gatewaySandboxCallbackProcessor: Processor<'gateway-sandbox.callback'> = async (
  { instructionId },
  { rt },
) =>
  deliverSandboxCallback(
    rt.ports.gateway,
    { callbackUrl: rt.config.gateway.sandboxCallbackUrl, secret: rt.config.gateway.secret },
    instructionId,
  );
