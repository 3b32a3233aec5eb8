export { createOpenAiAgent } from './create-openai-agent.js';
export { OpenAiAgent, type OpenAiAgentOptions } from './openai-agent.js';
export type { ChatModelOptions } from './chat-model.js';
export { ModelError, ModelProtocolError, ModelStreamCutError } from './model-errors.js';
