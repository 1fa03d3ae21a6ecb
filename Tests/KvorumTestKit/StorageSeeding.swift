import KvorumCore

extension Storage {
    /// Stores `record` at the place a node with `partitionCount` partitions
    /// gives it (as `KvorumNode.putRecord` does), for tests that seed or
    /// damage a store directly.
    @discardableResult
    public func setRecord(
        _ record: StoredRecord, for key: Key, partitionCount: Int = NodeConfig.defaultPartitionCount
    ) -> UInt64? {
        setRecord(record, for: key, at: TreePlace(key: key, siblings: record.siblings, partitionCount: partitionCount))
    }
}
