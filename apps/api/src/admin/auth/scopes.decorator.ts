import { Reflector } from '@nestjs/core';
import type { Scope } from './api-key-secret.js';

/** The scope a route needs. Every admin route must declare one: ApiKeyGuard refuses routes without it. */
export const RequireScope = Reflector.createDecorator<Scope>();
