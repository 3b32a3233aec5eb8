import { Global, Module } from '@nestjs/common';
import { AppConfig } from '#libs/config';
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
      inject: [AppConfig, AgentRegistry],
      useFactory: (config: AppConfig, registry: AgentRegistry): AgentProvider => {
        switch (config.AI_PROVIDER) {
          case 'local':
            return new LocalAgent((name) => registry.get(name), config.HUMAN_TRANSFER_NUMBER);
          case 'openai':
            return createOpenAiAgent(config, (name) => registry.get(name));
        }
      },
    },
  ],
  exports: [AgentRegistry, AGENT_PROVIDER],
})
export class AgentsModule {}
