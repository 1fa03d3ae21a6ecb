/// The record of a fault run: every client operation (invoked, then ok,
/// failed or indeterminate), every fault the nemesis applied and healed, and
/// every replica's final copy of every key, one JSON object per line.
public enum History {}
