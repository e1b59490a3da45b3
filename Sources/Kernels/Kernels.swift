public enum KernelsModule {}
