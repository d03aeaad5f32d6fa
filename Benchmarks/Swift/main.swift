import RepProbeKit
print("bench")
