/** The choices the SLO pages offer, in display order (the wire types name them; these list them). */
import type { SloWindow as SLOWindow, TimeRange } from '../../../src/slo/server/schemas';

/** Query parameter `time_range` of every SLO read. */
export const TIME_RANGES: readonly TimeRange[] = ['1h', '6h', '1d', '7d', '30d'];

/** Windows an SLO target (and its error budget) is evaluated over. */
export const SLO_WINDOWS: readonly SLOWindow[] = ['1d', '7d', '30d'];
