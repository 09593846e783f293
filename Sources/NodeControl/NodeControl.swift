/// Runs tapyrusd nodes in dev mode and drives them over RPC and raw P2P.
public enum NodeControl {}
