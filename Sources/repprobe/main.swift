import RepProbeKit
print("repprobe")
