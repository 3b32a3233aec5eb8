import { Global, Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { MetricsService } from '#libs/metrics';
import { AgentRegistry } from './agent-registry.js';
import type { AgentProvider } from './agent.types.js';
import { LocalAgent } from './local-agent.js';
import { createOpenAiAgent } from './openai/create-openai-agent.js';

/** Injection token of the configured provider (AI_PROVIDER). Used by the worker only. */
export const AGENT_PROVIDER = Symbol('AGENT_PROVIDER');

@Global()
@Module({
  providers: [
    AgentRegistry,
    {
      provide: AGENT_PROVIDER,
      inject: [AppConfig, AgentRegistry, { token: MetricsService, optional: true }],
      useFactory: (config: AppConfig, registry: AgentRegistry, metrics?: MetricsService): AgentProvider => {
        switch (config.AI_PROVIDER) {
          case 'local':
            return new LocalAgent((name) => registry.get(name), config.HUMAN_TRANSFER_NUMBER);
          case 'openai':
            return createOpenAiAgent(config, (name) => registry.get(name), {
              onRequest: metrics && ((outcome) => metrics.countModelRequest('openai', outcome)),
            });
        }
      },
    },
  ],
  exports: [AgentRegistry, AGENT_PROVIDER],
})
export class AgentsModule {}
