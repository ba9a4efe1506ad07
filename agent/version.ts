// Sent in Hello so the decider can log which agents run; bump with package.json.
export const AGENT_VERSION = '0.1.0';
