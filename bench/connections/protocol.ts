/** The messages of the connection-scale benchmark (bench/connections.ts). */
import { defineMessage, t } from '@herald/codec';

/** One request; `id` is the client's connection index, echoed in the response. */
export const ScaleRequest = defineMessage('scale.Request', { id: t.int() });
export const ScaleResponse = defineMessage('scale.Response', { id: t.int() });

export const scaleMessages = [ScaleRequest, ScaleResponse] as const;
