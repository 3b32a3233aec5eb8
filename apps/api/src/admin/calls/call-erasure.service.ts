import { Injectable, Logger } from '@nestjs/common';
import { CallErasureRepository, CallsRepository, statusRank } from '#libs/database';
import { CallInProgressError, CallNotFoundError } from '../admin-errors.js';
import type { Principal } from '../auth/principal.js';
import type { ErasedCallDto } from '../dto/call.dto.js';

/** Rank of "abandoned" and the final statuses: the call will get no more turns. */
const ENDED_RANK = statusRank('abandoned');

/** Privacy erasure of a call's transcript, with an audit event naming the key. */
@Injectable()
export class CallErasureService {
  private readonly logger = new Logger(CallErasureService.name);

  constructor(
    private readonly calls: CallsRepository,
    private readonly erasure: CallErasureRepository,
  ) {}

  async erase(callSid: string, by: Principal, at = new Date()): Promise<ErasedCallDto> {
    const call = await this.calls.findWithTranscript(callSid);
    if (!call) throw new CallNotFoundError(callSid);
    if (statusRank(call.status) < ENDED_RANK) throw new CallInProgressError(callSid);
    const result = await this.erasure.erase(callSid, { by: { keyId: by.keyId, name: by.name }, at });
    if (!result) throw new CallNotFoundError(callSid);
    this.logger.log({ callSid, keyId: by.keyId, turns: result.turnsErased }, 'call transcript erased');
    return { callSid, erasedAt: at.toISOString(), ...result };
  }
}
