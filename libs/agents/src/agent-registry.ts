import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { readAgentsFile, type AgentConfig } from './agent-config.js';

/** Named agent configurations, read once from AGENTS_FILE. Unknown names fall back to the default. */
@Injectable()
export class AgentRegistry {
  private readonly agents: Map<string, AgentConfig>;
  private readonly defaultName: string;

  constructor(config: AppConfig) {
    const list = readAgentsFile(config.AGENTS_FILE);
    this.agents = new Map(list.map((a) => [a.name, a]));
    if (!this.agents.has(config.DEFAULT_AGENT)) {
      throw new Error(`DEFAULT_AGENT ${config.DEFAULT_AGENT} is not defined in ${config.AGENTS_FILE}`);
    }
    this.defaultName = config.DEFAULT_AGENT;
  }

  get(name?: string): AgentConfig {
    return this.agents.get(name ?? this.defaultName) ?? this.agents.get(this.defaultName)!;
  }

  has(name: string): boolean {
    return this.agents.has(name);
  }

  names(): string[] {
    return [...this.agents.keys()];
  }
}
