export { AgentsModule, AGENT_PROVIDER } from './agents.module.js';
export { AgentRegistry } from './agent-registry.js';
export { LocalAgent, tokenize } from './local-agent.js';
export { readAgentsFile, agentConfigSchema, type AgentConfig, type DepartmentConfig, type FaqEntry } from './agent-config.js';
export type * from './agent.types.js';
export { TurnCancelledError, TurnBudgetExceededError, abortReason } from './turn-errors.js';
export { createOpenAiAgent, OpenAiAgent, ModelError, ModelProtocolError, ModelStreamCutError, type ChatModelOptions, type OpenAiAgentOptions } from './openai/index.js';
export { runTool, type ToolOutcome, type ToolRecord } from './openai/tools.js';
export { realtimeInstructions, realtimeTools, realtimeVoice } from './openai/realtime.js';
