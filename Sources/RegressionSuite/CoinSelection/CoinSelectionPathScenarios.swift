import Foundation
import NodeControl
import TapyrusEncoding
import TraceHarness

/// `coin_selection:*` when Branch and Bound finds an exact match.
///
/// BnB looks for coins whose effective values (value minus the fee of
/// spending them, 147 bytes each) sum to the amount plus the fee of the
/// payment outputs alone, or up to `cost_of_change` more (the discard rate's
/// 10 units a byte for spending a change coin, plus 20 a byte for its
/// 34-byte output: 2,150 units). The scenario first pays itself one coin of
/// exactly amount + 2,940 + 880 + 1,000 units and confirms it, so that BnB's
/// first pass selects it alone: `selected_coins` says "BNB" with a target of
/// the bare amount (no fee in the first pass). The excess over the target
/// goes to the fee, since BnB never makes change, though `change_info`'s TPC
/// site fires for it first (with `&nChange`, the known issue). The fee then
/// needed for the 191-byte transaction is less than the 4,820 paid, and the
/// excess is too small for a change output (that would need the fee with one
/// plus a 1,820-unit output), so `fee_info` fires at its first site
/// (wallet.cpp:2980, `nFeeRet >= nFeeNeeded`) with 4,820 paid, 3,820 needed.
struct CoinSelectionBnBScenario: CoinSelectionScenario {
    let name = "coin-selection-bnb"
    var coverage: [PathCoverage] {
        [
            .exercised(SelectedCoins.tracepoint.probe, "algorithm \"BNB\": an exact match in the first pass"),
            .exercised(ChangeInfo.tracepoint.probe, "TPC site (wallet.cpp:2877) for change BnB adds to the fee"),
            .exercised(FeeInfo.tracepoint.probe, "wallet.cpp:2980 (nFeeRet >= nFeeNeeded), paying more than needed, no change output"),
        ]
    }

    /// What the exact coin carries above the amount and BnB's fees (within `cost_of_change`).
    static let excess: Int64 = 1000

    func run(on node: TapyrusNode, funded wallet: MinedCoinbase, _ context: ScenarioContext, _ check: Check) async throws {
        let rpc = node.rpc
        let recipient = try await rpc.getNewAddress()
        let amount = Amount.tpc(1)
        let paymentSize = try await CoinSelectionFees.outputSize(paying: recipient, rpc: rpc)
        let bnbTarget = amount.units + CoinSelectionFees.fee(bytes: CoinSelectionFees.overheadBytes + paymentSize)
        let exact = Amount(units: bnbTarget + CoinSelectionFees.fee(bytes: CoinSelectionFees.inputBytes) + Self.excess)
        let funding = try await rpc.sendToAddress(try await rpc.getNewAddress(), amount: exact)
        try await rpc.generateToAddress(1, address: wallet.address)
        let recording = try await context.record(node)

        let txid = try await rpc.sendToAddress(recipient, amount: amount)
        let events = try await CoinSelectionEvents(recording)
        let memory = try ProcessMemory.of(pid: recording.pid)

        let transaction = try await TransactionFacts.wallet(txid, rpc: rpc)
        let spent = try await transaction.spentOutputs(rpc: rpc)
        let fee = spent.total(of: "TPC") - transaction.outputs.total(of: "TPC")
        check.equal(transaction.inputs.map(\.txid), [funding], "the send spends the exact coin alone")
        check.equal(transaction.outputs.map(\.units), [amount.units], "one output, the payment: no change")
        check.equal(try baseFee(of: try await rpc.getMempoolEntry(txid)), fee, "getmempoolentry's fee is inputs − outputs (\(fee) units)")
        let needed = CoinSelectionFees.fee(bytes: CoinSelectionFees.maximumSignedSize(inputs: 1, outputBytes: [paymentSize]))

        check.equal(events.requested.map { "\($0.value) \($0.colourID)" }, ["\(amount.units) TPC"], "one coins_requested for the amount (\(events.summary))")
        check.equal(events.selected.map(SelectionRecord.init),
                    [SelectionRecord(colourID: "TPC", target: amount.units, inputValue: exact.units, coinCount: 1, algorithm: "BNB")],
                    "one selected_coins: BNB, the bare amount as target (no fee in the first pass), the exact coin")
        check.equal(events.change.map(\.colourID), ["TPC"], "one change_info, at the TPC site")
        if let change = events.change.first {
            checkChangeAddress(change, documented: exact.units - amount.units, memory: memory, check)
        }
        check.equal(events.fees.map { "\($0.feePaid) \($0.feeNeeded)" }, ["\(exact.units - amount.units) \(needed)"],
                    "one fee_info: paid the coin's excess over the amount (\(exact.units - amount.units)), needed \(needed) for \(needed / 20) bytes")
        check.equal(fee, exact.units - amount.units, "the transaction pays the coin's excess as its fee")
    }
}

/// `coin_selection:*` for a send with `subtractfeefromamount`: no BnB; the
/// first pass selects by knapsack for the bare amount, makes change of the
/// rest, and learns the fee a 225-byte transaction needs; the second pass
/// keeps the inputs (no second `selected_coins`), takes the fee from the
/// payment, makes the same change again (a second `change_info`) and finds
/// the fee paid equal to the fee needed: `fee_info` at wallet.cpp:2980.
struct CoinSelectionSubtractFeeScenario: CoinSelectionScenario {
    let name = "coin-selection-subtract-fee"
    var coverage: [PathCoverage] {
        [
            .exercised(SelectedCoins.tracepoint.probe, "algorithm \"knapsack\" without a BnB pass (subtract fee from amount)"),
            .exercised(ChangeInfo.tracepoint.probe, "TPC site once per pass, the second pass keeping the inputs"),
            .exercised(FeeInfo.tracepoint.probe, "wallet.cpp:2980 after a pass that kept the inputs, fee taken from the payment"),
        ]
    }

    func run(on node: TapyrusNode, funded wallet: MinedCoinbase, _ context: ScenarioContext, _ check: Check) async throws {
        let rpc = node.rpc
        let recipient = try await rpc.getNewAddress()
        let amount = Amount.tpc(1)
        let recording = try await context.record(node)

        let txid = try await rpc.sendToAddress(recipient, amount: amount, subtractFeeFromAmount: true)
        let events = try await CoinSelectionEvents(recording)
        let memory = try ProcessMemory.of(pid: recording.pid)

        let transaction = try await TransactionFacts.wallet(txid, rpc: rpc)
        let spent = try await transaction.spentOutputs(rpc: rpc)
        let inputTotal = spent.total(of: "TPC")
        let fee = inputTotal - transaction.outputs.total(of: "TPC")
        let payment = transaction.outputs.filter { $0.addresses == [recipient] }
        let change = transaction.outputs.filter { $0.addresses != [recipient] }
        let parsed = try Transaction(hex: transaction.hex)
        let needed = CoinSelectionFees.fee(bytes: CoinSelectionFees.maximumSignedSize(
            inputs: transaction.inputs.count, outputBytes: parsed.outputs.map(CoinSelectionFees.serializedSize)))
        check.equal(transaction.inputs.count, 1, "the send spends the wallet's one coin")
        check.equal(payment.map(\.units), [amount.units - fee], "the payment is the amount less the fee")
        check.equal(change.map(\.units), [inputTotal - amount.units], "the change is the coin less the amount")
        check.equal(fee, needed, "the fee is what \(needed / 20) bytes need")
        check.equal(try baseFee(of: try await rpc.getMempoolEntry(txid)), fee, "getmempoolentry's fee is inputs − outputs (\(fee) units)")

        check.equal(events.requested.map { "\($0.value) \($0.colourID)" }, ["\(amount.units) TPC"], "one coins_requested for the amount (\(events.summary))")
        check.equal(events.selected.map(SelectionRecord.init),
                    [SelectionRecord(colourID: "TPC", target: amount.units, inputValue: inputTotal, coinCount: 1, algorithm: "knapsack")],
                    "one selected_coins: knapsack for the bare amount (the fee comes out of it), the one coin")
        check.equal(events.change.map(\.colourID), ["TPC", "TPC"], "change_info at the TPC site in both passes")
        for event in events.change {
            checkChangeAddress(event, documented: inputTotal - amount.units, memory: memory, check)
        }
        check.equal(events.fees.map { "\($0.feePaid) \($0.feeNeeded)" }, ["\(fee) \(needed)"], "one fee_info: paid and needed the same \(fee) units")
    }
}

/// `coin_selection:*` for sends the wallet cannot fund.
///
/// - 51 TPC from a 50 TPC wallet: `sendtoaddress` refuses before
///   `CreateTransaction` with its balance check for every colour
///   ("Insufficient token balance in wallet"): no event.
/// - 50 TPC, the whole balance: `coins_requested` fires; BnB finds no match
///   and selects nothing (no event); the second pass's knapsack cannot find
///   the amount plus the 880-unit fee of the payment output alone and
///   `CreateTransaction` fails: no `selected_coins`, `change_info` or
///   `fee_info`. The RPC error names that fee ("requires a transaction fee of
///   at least 0.0000088").
struct CoinSelectionInsufficientScenario: CoinSelectionScenario {
    let name = "coin-selection-insufficient"
    var coverage: [PathCoverage] {
        [
            .exercised(CoinsRequested.tracepoint.probe, "a send CreateTransaction cannot fund (fires; nothing after it does)"),
            .exercised(SelectedCoins.tracepoint.probe, "insufficient funds: BnB and knapsack both fail, no event"),
        ]
    }

    func run(on node: TapyrusNode, funded wallet: MinedCoinbase, _ context: ScenarioContext, _ check: Check) async throws {
        let rpc = node.rpc
        let balance = try await rpc.getBalance()
        check.equal(balance, .tpc(50), "the wallet holds one 50 TPC coinbase")
        let recipient = try await rpc.getNewAddress()
        let recording = try await context.record(node)

        let beyond = try await Self.refusal(of: balance + .tpc(1), to: recipient, rpc: rpc)
        check.equal(beyond.code, RPCErrorCode.invalidParameter, "51 TPC: refused with code -8 (\(beyond.message))")
        check.equal(beyond.message, "Insufficient token balance in wallet", "51 TPC: sendtoaddress's balance check, worded for every colour")
        let none = try await CoinSelectionEvents(recording)
        check.equal(none.requested.count + none.selected.count + none.change.count + none.fees.count, 0,
                    "no coin_selection event: sendtoaddress refuses before CreateTransaction (\(none.summary))")

        let paymentSize = try await CoinSelectionFees.outputSize(paying: recipient, rpc: rpc)
        let passTwoFee = CoinSelectionFees.fee(bytes: CoinSelectionFees.overheadBytes + paymentSize)
        let whole = try await Self.refusal(of: balance, to: recipient, rpc: rpc)
        check.equal(whole.code, RPCErrorCode.walletError, "50 TPC: refused with code -4 (\(whole.message))")
        check.equal(whole.message, "Error: This transaction requires a transaction fee of at least \(CoinSelectionFees.formatMoney(passTwoFee))",
                    "50 TPC: the error names the \(passTwoFee)-unit fee of the payment output alone (nFeeRet of the failed pass)")
        let events = try await CoinSelectionEvents(recording)
        check.equal(events.requested.map { "\($0.value) \($0.colourID)" }, ["\(balance.units) TPC"], "one coins_requested for the whole balance (\(events.summary))")
        check.equal(events.selected.count + events.change.count + events.fees.count, 0, "no selected_coins, change_info or fee_info for a selection that failed")
        check.equal(try await rpc.getRawMempool(), [], "nothing was sent")
    }

    /// The wallet error of sending `amount` to `recipient`.
    static func refusal(of amount: Amount, to recipient: String, rpc: RPCClient) async throws -> (code: Int, message: String) {
        do {
            let txid = try await rpc.sendToAddress(recipient, amount: amount)
            throw ScenarioError("sendtoaddress sent \(amount) as \(txid) from a wallet that cannot fund it")
        } catch let RPCError.server(_, code, message) {
            return (code, message)
        }
    }
}

/// `coin_selection:*` for a token issue and for one transaction paying TPC
/// and tokens.
///
/// 1. `issuetoken` (non-reissuable) selects its source coin by coin control:
///    `selected_coins` fires for TPC only (the new colour is not selected),
///    with a target of 0 and the label "knapsack" (`bnb_used` is false on the
///    coin control path), then the TPC change and the fee taken from it
///    (`fee_info` at wallet.cpp:3000) for the 260-byte issue.
/// 2. `fundrawtransaction` for 1 TPC and 300 tokens: the first pass's BnB
///    finds no TPC match, which switches BnB off, so the tokens are selected
///    by knapsack in the same pass, and their change fires `change_info` at
///    the coloured site (wallet.cpp:2862); the fee of the inputs so far (the
///    token coin) and the three outputs is carried into the second pass, which
///    selects TPC for the amount plus it, the tokens again, fires both change
///    sites, and takes the rest of the fee out of the TPC change (2980's
///    `else`: wallet.cpp:3000).
struct CoinSelectionMixedScenario: CoinSelectionScenario {
    let name = "coin-selection-mixed"
    var coverage: [PathCoverage] {
        [
            .exercised(CoinsRequested.tracepoint.probe, "a token issue (TPC 0 and the new colour)"),
            .exercised(CoinsRequested.tracepoint.probe, "TPC and a token in one transaction (fundrawtransaction)"),
            .exercised(SelectedCoins.tracepoint.probe, "coin control with preset inputs only (issuetoken): labelled \"knapsack\", the new colour not selected"),
            .exercised(SelectedCoins.tracepoint.probe, "a token selected by knapsack in the first pass after BnB found no TPC match"),
            .exercised(ChangeInfo.tracepoint.probe, "coloured site (wallet.cpp:2862), in both passes of a mixed send"),
            .exercised(FeeInfo.tracepoint.probe, "wallet.cpp:3000: the fee taken from the TPC change (issue, mixed send)"),
            .unreachable(SelectedCoins.tracepoint.probe, "algorithm other than \"BNB\" and \"knapsack\"",
                         reason: "the argument is bnb_used ? \"BNB\" : \"knapsack\"; the coin control and preset-input paths are labelled \"knapsack\""),
        ]
    }

    func run(on node: TapyrusNode, funded wallet: MinedCoinbase, _ context: ScenarioContext, _ check: Check) async throws {
        let rpc = node.rpc
        let source = try await Coin.coinbase(of: wallet.block, rpc: rpc)
        let recording = try await context.record(node)

        // 1. The issue.
        let token = try await rpc.issueToken(type: .nonReissuable, value: 1000, source: source.outpoint.txid, outputIndex: 0)
        let issued = try await CoinSelectionEvents(recording)
        let issueMemory = try ProcessMemory.of(pid: recording.pid)
        let issue = try await TransactionFacts.wallet(try requireScenario(token.txid, "issuetoken txid"), rpc: rpc)
        let issueParsed = try Transaction(hex: issue.hex)
        let issueFee = source.value.units - issue.outputs.total(of: "TPC")
        let issueNeeded = CoinSelectionFees.fee(bytes: CoinSelectionFees.maximumSignedSize(
            inputs: 1, outputBytes: issueParsed.outputs.map(CoinSelectionFees.serializedSize)))
        check.equal(issue.inputs, [source.outpoint], "the issue spends its source coin alone")
        check.equal(issue.outputs.filter { $0.token == token.color }.map(\.units), [1000], "the issue makes 1,000 tokens")
        check.equal(issueFee, issueNeeded, "the issue's fee is what \(issueNeeded / 20) bytes need")
        check.equal(issued.requested.map { "\($0.value) \($0.colourID)" }, ["0 TPC", "1000 \(token.color)"],
                    "coins_requested: 0 TPC and the 1,000 new tokens (\(issued.summary))")
        check.equal(issued.selected.map(SelectionRecord.init),
                    [SelectionRecord(colourID: "TPC", target: 0, inputValue: source.value.units, coinCount: 1, algorithm: "knapsack")],
                    "one selected_coins: TPC, target 0, the source coin by coin control, labelled knapsack; none for the new colour")
        check.equal(issued.change.map(\.colourID), ["TPC"], "one change_info, at the TPC site")
        if let change = issued.change.first {
            checkChangeAddress(change, documented: source.value.units, memory: issueMemory, check)
        }
        check.equal(issued.fees.map { "\($0.feePaid) \($0.feeNeeded)" }, ["\(issueFee) \(issueNeeded)"], "one fee_info: the fee taken from the change")
        try await rpc.generateToAddress(1, address: wallet.address)

        // 2. TPC and tokens in one transaction.
        await recording.clear()
        let tpcRecipient = try await rpc.getNewAddress()
        let tokenRecipient = try await rpc.getNewAddress(color: token.color)
        let amount = Amount.tpc(1)
        let count: Int64 = 300
        let raw = try await rpc.call("createrawtransaction", [.array([]), .object([tpcRecipient: amount.rpcValue, tokenRecipient: .int(count)])], as: String.self)
        let funded = try await rpc.call("fundrawtransaction", [.string(raw)])
        let fundedHex = try requireScenario(funded["hex"]?.stringValue, "fundrawtransaction hex")
        let events = try await CoinSelectionEvents(recording)
        let memory = try ProcessMemory.of(pid: recording.pid)

        let transaction = try await TransactionFacts.decode(fundedHex, rpc: rpc)
        let parsed = try Transaction(hex: fundedHex)
        let spent = try await transaction.spentOutputs(rpc: rpc)
        let tokenIn = spent.total(of: token.color)
        let tpcIn = spent.total(of: "TPC")
        let tokenInputs = spent.filter { $0.token == token.color }.count
        let tpcInputs = spent.filter { $0.token == "TPC" }.count
        let fee = tpcIn - transaction.outputs.total(of: "TPC")
        let outputBytes = parsed.outputs.map(CoinSelectionFees.serializedSize)
        let needed = CoinSelectionFees.fee(bytes: CoinSelectionFees.maximumSignedSize(inputs: transaction.inputs.count, outputBytes: outputBytes))
        // Pass 1 ends with the token inputs, the two payments and the token change.
        let tokenChangeBytes = zip(transaction.outputs, outputBytes).first { $0.0.token == token.color && $0.0.addresses != [tokenRecipient] }?.1 ?? 0
        let paymentBytes = zip(transaction.outputs, outputBytes).filter { [[tpcRecipient], [tokenRecipient]].contains($0.0.addresses) }.map(\.1)
        let passOneFee = CoinSelectionFees.fee(bytes: CoinSelectionFees.maximumSignedSize(inputs: tokenInputs, outputBytes: paymentBytes + [tokenChangeBytes]))
        check.equal(transaction.outputs.filter { $0.addresses == [tpcRecipient] }.map(\.units), [amount.units], "one TPC payment of 1 TPC")
        check.equal(transaction.outputs.filter { $0.addresses == [tokenRecipient] }.map(\.units), [count], "one payment of \(count) tokens")
        check.equal(transaction.outputs.filter { $0.token == token.color && $0.addresses != [tokenRecipient] }.map(\.units), [tokenIn - count], "one token change output")
        check.equal(fee, needed, "the fee is what \(needed / 20) bytes need")
        check.equal(Amount(rpcValue: try requireScenario(funded["fee"]?.doubleValue, "fundrawtransaction fee")).units, fee, "fundrawtransaction's fee is TPC inputs − TPC outputs")

        check.equal(events.requested.map { "\($0.value) \($0.colourID)" }, ["\(amount.units) TPC", "\(count) \(token.color)"],
                    "coins_requested for 1 TPC and \(count) tokens (\(events.summary))")
        check.equal(events.selected.map(SelectionRecord.init), [
            SelectionRecord(colourID: token.color, target: count, inputValue: tokenIn, coinCount: tokenInputs, algorithm: "knapsack"),
            SelectionRecord(colourID: "TPC", target: amount.units + passOneFee, inputValue: tpcIn, coinCount: tpcInputs, algorithm: "knapsack"),
            SelectionRecord(colourID: token.color, target: count, inputValue: tokenIn, coinCount: tokenInputs, algorithm: "knapsack"),
        ], "selected_coins: the tokens in pass 1 (BnB found no TPC match), then TPC for 1 TPC plus pass 1's \(passOneFee)-unit fee and the tokens again")
        check.equal(events.change.map(\.colourID), [token.color, token.color, "TPC"], "change_info: the token change in both passes, then TPC")
        check.equal(events.change.filter { $0.colourID == token.color }.map(\.change), [tokenIn - count, tokenIn - count], "both token change_info values are the token change")
        if let tpcChange = events.change.last, events.change.count == 3 {
            checkChangeAddress(tpcChange, documented: tpcIn - amount.units - passOneFee, memory: memory, check)
        }
        check.equal(events.fees.map { "\($0.feePaid) \($0.feeNeeded)" }, ["\(fee) \(needed)"], "one fee_info: the fee taken from the TPC change")
    }
}
