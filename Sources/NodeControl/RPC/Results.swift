import TapyrusEncoding

/// `getblockchaininfo`: the node's view of its chain.
public struct BlockchainInfo: Sendable, Hashable, Decodable {
    /// The network id as a string (Tapyrus reports the id, e.g. `1905960821`).
    public var chain: String
    /// `DEV` or `PROD`.
    public var mode: String?
    /// Height of the active tip.
    public var blocks: Int
    /// Height of the best validated header.
    public var headers: Int
    /// Hash of the active tip.
    public var bestblockhash: String
    /// Median time past of the tip.
    public var mediantime: Int64
    /// Whether the node thinks it is in initial block download.
    public var initialblockdownload: Bool?
    /// Block and undo file size.
    public var sizeOnDisk: Int64?
    /// Whether pruning is enabled.
    public var pruned: Bool
    /// Lowest height with complete block data, when pruning.
    public var pruneheight: Int?

    enum CodingKeys: String, CodingKey {
        case chain, mode, blocks, headers, bestblockhash, mediantime, initialblockdownload, pruned, pruneheight
        case sizeOnDisk = "size_on_disk"
    }
}

/// `getblock <hash> 1`: a block with its transaction ids.
public struct BlockInfo: Sendable, Hashable, Decodable {
    public var hash: String
    /// Confirmations, or -1 if the block is not on the active chain.
    public var confirmations: Int
    /// Serialised size in bytes.
    public var size: Int
    public var height: Int
    /// Block features (Tapyrus' version field).
    public var features: Int?
    public var merkleroot: String
    /// Merkle root computed without scriptSigs (Tapyrus' malleability fix).
    public var immutablemerkleroot: String?
    /// Transaction ids, coinbase first.
    public var tx: [String]
    public var time: Int64
    public var mediantime: Int64?
    /// The xfield type (1 = aggregate public key).
    public var xfieldType: Int?
    /// The block's signature.
    public var proof: String?
    public var nTx: Int
    public var previousblockhash: String?
    public var nextblockhash: String?
}

/// `gettransaction`: a wallet transaction.
public struct WalletTransaction: Sendable, Hashable, Decodable {
    public var txid: String
    public var confirmations: Int
    public var blockhash: String?
    public var blockindex: Int?
    public var blocktime: Int64?
    /// Net amount for the wallet.
    public var amount: Amount?
    /// Fee paid (negative), for sends.
    public var fee: Amount?
    /// The raw transaction, hex.
    public var hex: String
}

/// One output of a decoded transaction.
public struct TransactionOutput: Sendable, Hashable, Decodable {
    /// The script of an output.
    public struct Script: Sendable, Hashable, Decodable {
        public var hex: String
        public var type: String?
        public var addresses: [String]?
        /// The colour id, for coloured outputs.
        public var color: String?
    }

    public var value: Amount
    public var n: Int
    public var scriptPubKey: Script
    /// The token (colour or "TPC"), when the node reports one.
    public var token: String?
}

/// `getrawtransaction <txid> true`: a decoded transaction.
public struct DecodedTransaction: Sendable, Hashable, Decodable {
    public var txid: String
    public var hash: String?
    public var size: Int
    public var features: Int?
    public var locktime: Int64
    public var vout: [TransactionOutput]
    public var hex: String
    public var blockhash: String?
    public var confirmations: Int?
}

/// `signrawtransactionwithwallet`: the signed transaction.
public struct SignedTransaction: Sendable, Hashable, Decodable {
    public var hex: String
    /// Whether every input is signed.
    public var complete: Bool
}

/// `testmempoolaccept`: Tapyrus' package form of the answer.
public struct MempoolAcceptance: Sendable, Hashable {
    /// The verdict for one transaction.
    public struct Verdict: Sendable, Hashable, Decodable {
        public var allowed: Bool
        public var rejectReason: String?

        enum CodingKeys: String, CodingKey {
            case allowed
            case rejectReason = "reject-reason"
        }
    }

    /// A reason that rejects the whole package, when the node gives one instead of per-transaction verdicts.
    public var packageRejectReason: String?
    /// Verdicts by txid.
    public var verdicts: [String: Verdict]

    /// Whether every transaction was allowed.
    public var allAllowed: Bool {
        packageRejectReason == nil && !verdicts.isEmpty && verdicts.values.allSatisfy(\.allowed)
    }

    /// Reads the node's answer.
    public init(_ value: JSONValue) throws {
        guard let members = value.objectValue else {
            throw RPCError.unexpectedResult(method: "testmempoolaccept", detail: "not an object: \(value)")
        }
        if members["allowed"]?.boolValue == false {
            packageRejectReason = members["reject-reason"]?.stringValue ?? "rejected"
            verdicts = [:]
            return
        }
        packageRejectReason = nil
        verdicts = try members.mapValues { try $0.decode(as: Verdict.self) }
    }
}

/// `getmempoolinfo`.
public struct MempoolInfo: Sendable, Hashable, Decodable {
    /// Number of transactions.
    public var size: Int
    /// Sum of transaction sizes.
    public var bytes: Int
    /// Memory use.
    public var usage: Int
    public var maxmempool: Int
    public var mempoolminfee: Amount
    public var minrelaytxfee: Amount
}

/// `getmempoolentry`.
public struct MempoolEntry: Sendable, Hashable, Decodable {
    /// Fees of an entry.
    public struct Fees: Sendable, Hashable, Decodable {
        public var base: Amount
        public var modified: Amount
        public var ancestor: Amount
        public var descendant: Amount
    }

    /// Transaction size in bytes.
    public var size: Int
    /// Entry time, seconds since the epoch.
    public var time: Int64
    public var height: Int
    public var descendantcount: Int
    public var ancestorcount: Int
    public var fees: Fees?
    public var fee: Amount?
    public var depends: [String]
    public var spentby: [String]?
}

/// One entry of `getpeerinfo`.
public struct PeerInfo: Sendable, Hashable, Decodable {
    public var id: Int
    /// `host:port` of the peer.
    public var addr: String
    public var addrbind: String?
    public var services: String?
    public var version: Int
    public var subver: String
    public var inbound: Bool
    /// Whether the connection came from `addnode`/`-connect`.
    public var addnode: Bool?
    public var startingheight: Int?
    public var syncedHeaders: Int?
    public var syncedBlocks: Int?
    /// The connection type, on versions that report one.
    public var connectionType: String?

    enum CodingKeys: String, CodingKey {
        case id, addr, addrbind, services, version, subver, inbound, addnode, startingheight
        case syncedHeaders = "synced_headers"
        case syncedBlocks = "synced_blocks"
        case connectionType = "connection_type"
    }
}

/// `gettxoutsetinfo`.
public struct TxOutSetInfo: Sendable, Hashable, Decodable {
    public var height: Int
    public var bestblock: String
    public var transactions: Int
    public var txouts: Int
    public var bogosize: Int?
    public var hashSerialized: String?
    public var diskSize: Int?
    /// Totals per colour id as the node prints them: TPC (key `TPC`) in decimal coins, tokens as counts.
    public var totalAmount: [String: Double]?

    /// Total TPC in the UTXO set.
    public var tpcTotal: Amount? {
        totalAmount?["TPC"].map(Amount.init(rpcValue:))
    }

    enum CodingKeys: String, CodingKey {
        case height, bestblock, transactions, txouts, bogosize
        case hashSerialized = "hash_serialized_3"
        case diskSize = "disk_size"
        case totalAmount = "total_amount"
    }
}

/// The kind of token `issuetoken` creates.
public enum TokenType: Int, Sendable, Hashable {
    /// Reissuable tokens, issued against a script pubkey.
    case reissuable = 1
    /// Non-reissuable tokens, issued from an outpoint.
    case nonReissuable = 2
    /// A non-fungible token (value must be 1), issued from an outpoint.
    case nft = 3
}

/// `issuetoken`: the new colour and the transaction(s) that issued it.
public struct IssuedToken: Sendable, Hashable, Decodable {
    /// The colour id of the new token.
    public var color: String
    /// The issuing transaction (non-reissuable and NFT).
    public var txid: String?
    /// The two transactions of a reissuable issue.
    public var txids: [String]?
}

/// The `addnode` commands.
public enum AddNodeCommand: String, Sendable {
    /// Add to the list of peers to keep connected.
    case add
    /// Remove from that list.
    case remove
    /// Try one connection now.
    case onetry
}
