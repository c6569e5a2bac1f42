// What the App hands each view (ExploreView, DiffView): the URL state, a way to change it, where
// to report errors, and the Refresh button's counter.
import type { UiState } from './url_state.ts';

export interface ViewProps {
  state: UiState;
  update: (patch: Partial<UiState>, replace?: boolean) => void;
  report: (e: unknown) => void;
  refresh: number;
  onRefresh: () => void;
}

/** Flame graph nodes asked for: the server's default ceiling (-querier.max-flamegraph-nodes-max). */
export const MAX_NODES = 1 << 20;
