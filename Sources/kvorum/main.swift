import KvorumCore
print("kvorum")
