/**
 * The V8 young-generation size the agent runs with. Left alone, V8 sizes it from the heap limit: on
 * a machine with a few GiB, semi-spaces grow to 64 MiB, so a burst of pod starts (hundreds of pods in
 * flight, most of what they allocate still alive) is collected in a few scavenges of 50–300 ms, each
 * stopping the agent's event loop while its runtime and API server wait, and each running helper
 * threads that compete with them for the cores. 16 MiB semi-spaces (V8's long-standing default for
 * 64-bit) collect the same burst in shorter pauses and, measured in bench/agent on the fakes, with
 * less CPU in total.
 *
 * The CLI passes it to node in its shebang (agent/cmd/main.ts); bench/agent's agent thread gets the
 * same through resourceLimits.
 */
export const AGENT_SEMI_SPACE_MB = 16;

/** The same limit as a worker thread's resourceLimits.maxYoungGenerationSizeMb: two semi-spaces and a new large-object space of one semi-space. */
export const AGENT_YOUNG_GENERATION_MB = 3 * AGENT_SEMI_SPACE_MB;
