import TapyrusEncoding

// Typed wrappers for the calls the suite and benchmark use, with Tapyrus' signatures.

extension RPCClient {
    // MARK: Blockchain

    /// `getblockchaininfo`.
    public func getBlockchainInfo() async throws(RPCError) -> BlockchainInfo {
        try await call("getblockchaininfo", as: BlockchainInfo.self)
    }

    /// `getblockcount`: height of the active tip.
    public func getBlockCount() async throws(RPCError) -> Int {
        try await call("getblockcount", as: Int.self)
    }

    /// `getblockhash <height>`.
    public func getBlockHash(height: Int) async throws(RPCError) -> String {
        try await call("getblockhash", [.int(Int64(height))], as: String.self)
    }

    /// `getblock <hash> 1`: the block with transaction ids.
    public func getBlock(hash: String) async throws(RPCError) -> BlockInfo {
        try await call("getblock", [.string(hash), 1], as: BlockInfo.self)
    }

    /// `getblock <hash> 0`: the serialised block, hex.
    public func getBlockHex(hash: String) async throws(RPCError) -> String {
        try await call("getblock", [.string(hash), 0], as: String.self)
    }

    /// `gettxoutsetinfo` (walks the whole UTXO set; flushes the coins cache first).
    public func getTxOutSetInfo(timeout: Duration? = nil) async throws(RPCError) -> TxOutSetInfo {
        try await call("gettxoutsetinfo", as: TxOutSetInfo.self, timeout: timeout)
    }

    /// `pruneblockchain <height>`; returns the height of the last block pruned.
    @discardableResult
    public func pruneBlockchain(height: Int) async throws(RPCError) -> Int {
        try await call("pruneblockchain", [.int(Int64(height))], as: Int.self)
    }

    /// `invalidateblock <hash>`.
    public func invalidateBlock(_ hash: String) async throws(RPCError) {
        try await call("invalidateblock", [.string(hash)])
    }

    /// `reconsiderblock <hash>`.
    public func reconsiderBlock(_ hash: String) async throws(RPCError) {
        try await call("reconsiderblock", [.string(hash)])
    }

    // MARK: Mining

    /// `generatetoaddress <n> <address> <WIF>`: mines `count` blocks signed with the aggregate private key.
    ///
    /// Tapyrus needs the signing key as the third parameter; it must match the genesis aggregate key.
    @discardableResult
    public func generateToAddress(_ count: Int, address: String, signingKey: SigningKey = .test,
                                  timeout: Duration? = nil) async throws(RPCError) -> [String] {
        try await call("generatetoaddress", [.int(Int64(count)), .string(address), .string(signingKey.privateKeyWIF)],
                       as: [String].self, timeout: timeout)
    }

    // MARK: Wallet

    /// `getnewaddress ( label color )`; pass a colour id to get an address for that token.
    public func getNewAddress(label: String = "", color: String? = nil) async throws(RPCError) -> String {
        var params: [JSONValue] = [.string(label)]
        if let color { params.append(.string(color)) }
        return try await call("getnewaddress", params, as: String.self)
    }

    /// `getbalance ( include_watchonly color )`: TPC, or token units when `color` is given.
    public func getBalance(color: String? = nil) async throws(RPCError) -> Amount {
        var params: [JSONValue] = []
        if let color { params = [false, .string(color)] }
        let value = try await call("getbalance", params)
        guard let number = value.doubleValue else {
            throw .unexpectedResult(method: "getbalance", detail: "not a number: \(value)")
        }
        // Token balances are whole token counts; TPC balances are decimal coins.
        return color == nil ? Amount(rpcValue: number) : Amount(units: Int64(number.rounded()))
    }

    /// `sendtoaddress <address> <amount>`; the colour comes from the address (a coloured address sends tokens).
    @discardableResult
    public func sendToAddress(_ address: String, amount: Amount, subtractFeeFromAmount: Bool = false,
                              replaceable: Bool? = nil) async throws(RPCError) -> String {
        var params: [JSONValue] = [.string(address), amount.rpcValue, "", "", .bool(subtractFeeFromAmount)]
        if let replaceable { params.append(.bool(replaceable)) }
        return try await call("sendtoaddress", params, as: String.self)
    }

    /// `sendtoaddress <coloured address> <token count>`: sends tokens of the address's colour.
    @discardableResult
    public func sendTokens(to coloredAddress: String, count: Int64) async throws(RPCError) -> String {
        try await call("sendtoaddress", [.string(coloredAddress), .int(count)], as: String.self)
    }

    /// `sendmany "" {address: amount, ...}`: one transaction paying several addresses.
    @discardableResult
    public func sendMany(_ amounts: [String: Amount], replaceable: Bool? = nil) async throws(RPCError) -> String {
        var params: [JSONValue] = [.object(amounts.mapValues(\.rpcValue))]
        if let replaceable { params += ["", .array([]), .bool(replaceable)] }
        return try await call("sendmany", params, as: String.self)
    }

    /// `gettransaction <txid>`: a transaction of this wallet.
    public func getTransaction(_ txid: String) async throws(RPCError) -> WalletTransaction {
        try await call("gettransaction", [.string(txid)], as: WalletTransaction.self)
    }

    /// `getaddressinfo <address>`'s `scriptPubKey`: the locking script paying `address`.
    public func scriptPubKey(of address: String) async throws(RPCError) -> [UInt8] {
        let info = try await call("getaddressinfo", [.string(address)])
        guard let hex = info["scriptPubKey"]?.stringValue, let script = Hex.decode(hex) else {
            throw .unexpectedResult(method: "getaddressinfo", detail: "no scriptPubKey hex for \(address): \(info)")
        }
        return script
    }

    /// `lockunspent false [outpoints]`: the wallet selects none of `outpoints`
    /// until they are unlocked; it still signs for them.
    public func lockUnspent(_ outpoints: [OutPoint]) async throws(RPCError) {
        let values: [JSONValue] = outpoints.map { .object(["txid": .string($0.txid), "vout": .int(Int64($0.vout))]) }
        try await call("lockunspent", [false, .array(values)])
    }

    /// `importaddress <address or script hex> "" <rescan>`: watches a script;
    /// with `rescan`, rescans the chain and then offers every unconfirmed
    /// wallet transaction to the mempool again (`ReacceptWalletTransactions`).
    public func importAddress(_ addressOrScript: String, rescan: Bool) async throws(RPCError) {
        try await call("importaddress", [.string(addressOrScript), "", .bool(rescan)])
    }

    /// `issuetoken <type> <value> <scriptpubkey | txid> ( index )`.
    ///
    /// Reissuable tokens take a script pubkey (hex) as `source`; non-reissuable tokens and
    /// NFTs take a wallet txid and `outputIndex` of an uncoloured output.
    public func issueToken(type: TokenType, value: Int64, source: String, outputIndex: Int? = nil) async throws(RPCError) -> IssuedToken {
        var params: [JSONValue] = [.int(Int64(type.rawValue)), .int(value), .string(source)]
        if let outputIndex { params.append(.int(Int64(outputIndex))) }
        return try await call("issuetoken", params, as: IssuedToken.self)
    }

    // MARK: Raw transactions

    /// `getrawtransaction <txid> true ( blockhash )`: the decoded transaction.
    public func getRawTransaction(_ txid: String, blockHash: String? = nil) async throws(RPCError) -> DecodedTransaction {
        var params: [JSONValue] = [.string(txid), true]
        if let blockHash { params.append(.string(blockHash)) }
        return try await call("getrawtransaction", params, as: DecodedTransaction.self)
    }

    /// `getrawtransaction <txid> false`: the serialised transaction, hex.
    public func getRawTransactionHex(_ txid: String) async throws(RPCError) -> String {
        try await call("getrawtransaction", [.string(txid), false], as: String.self)
    }

    /// `createrawtransaction [inputs] {address: amount} ( locktime replaceable )`.
    ///
    /// The node sets each input's sequence: BIP 125's 0xfffffffd when
    /// `replaceable`, else 0xfffffffe with a non-zero `lockTime` (so that it
    /// applies), else final.
    public func createRawTransaction(inputs: [OutPoint], outputs: [String: Amount], lockTime: Int64 = 0,
                                     replaceable: Bool = false) async throws(RPCError) -> String {
        let inputValues: [JSONValue] = inputs.map { .object(["txid": .string($0.txid), "vout": .int(Int64($0.vout))]) }
        return try await call("createrawtransaction",
                              [.array(inputValues), .object(outputs.mapValues(\.rpcValue)), .int(lockTime), .bool(replaceable)],
                              as: String.self)
    }

    /// `signrawtransactionwithwallet <hex>`.
    public func signRawTransactionWithWallet(_ hex: String) async throws(RPCError) -> SignedTransaction {
        try await call("signrawtransactionwithwallet", [.string(hex)], as: SignedTransaction.self)
    }

    /// `sendrawtransaction <hex> ( allowhighfees )`; returns the txid.
    @discardableResult
    public func sendRawTransaction(_ hex: String, allowHighFees: Bool = false) async throws(RPCError) -> String {
        try await call("sendrawtransaction", [.string(hex), .bool(allowHighFees)], as: String.self)
    }

    /// `testmempoolaccept [hex...]`: Tapyrus answers per txid, or once for the whole package.
    public func testMempoolAccept(_ hexes: [String], allowHighFees: Bool = false) async throws(RPCError) -> MempoolAcceptance {
        let value = try await call("testmempoolaccept", [.array(hexes.map(JSONValue.string)), .bool(allowHighFees)])
        do {
            return try MempoolAcceptance(value)
        } catch let error as RPCError {
            throw error
        } catch {
            throw .unexpectedResult(method: "testmempoolaccept", detail: "\(error)")
        }
    }

    // MARK: Mempool

    /// `getmempoolinfo`.
    public func getMempoolInfo() async throws(RPCError) -> MempoolInfo {
        try await call("getmempoolinfo", as: MempoolInfo.self)
    }

    /// `getrawmempool`: txids in the mempool.
    public func getRawMempool() async throws(RPCError) -> [String] {
        try await call("getrawmempool", [false], as: [String].self)
    }

    /// `getmempoolentry <txid>`.
    public func getMempoolEntry(_ txid: String) async throws(RPCError) -> MempoolEntry {
        try await call("getmempoolentry", [.string(txid)], as: MempoolEntry.self)
    }

    // MARK: Network

    /// `addnode <host:port> <command>`.
    public func addNode(_ address: String, command: AddNodeCommand) async throws(RPCError) {
        try await call("addnode", [.string(address), .string(command.rawValue)])
    }

    /// `disconnectnode <host:port>`.
    public func disconnectNode(address: String) async throws(RPCError) {
        try await call("disconnectnode", [.string(address)])
    }

    /// `disconnectnode "" <nodeid>`.
    public func disconnectNode(id: Int) async throws(RPCError) {
        try await call("disconnectnode", ["", .int(Int64(id))])
    }

    /// `getpeerinfo`.
    public func getPeerInfo() async throws(RPCError) -> [PeerInfo] {
        try await call("getpeerinfo", as: [PeerInfo].self)
    }

    /// `getconnectioncount`.
    public func getConnectionCount() async throws(RPCError) -> Int {
        try await call("getconnectioncount", as: Int.self)
    }

    // MARK: Control

    /// `setmocktime <timestamp>` (0 returns to the system clock).
    public func setMockTime(_ timestamp: Int64) async throws(RPCError) {
        try await call("setmocktime", [.int(timestamp)])
    }

    /// `stop`: asks the node to shut down.
    public func stop() async throws(RPCError) {
        try await call("stop")
    }
}
