#!/usr/bin/env python3
"""The PyTorch side of scripts/bench-train: the same work as one `foldwise train`
of the manifest bench-train writes, as a PyTorch user would write it.

Reads DATA/train.csv (id,label), DATA/folds.csv (id,fold: the split Foldwise
made, written by bench-train) and the JPEGs in DATA/train and DATA/test; trains
resnet_ref (scripts/torch_replica.py's network) on every fold but --fold for
--epochs epochs (Adam, constant learning rate, batch --batch, shuffled, grey
images scaled to [0, 1] and normalised with mean 0.5, std 0.5, no
augmentation), then predicts the held-out fold and the test images (softmax,
eval mode) and writes them as .npy files, as Foldwise does. Images are decoded
by Pillow in a torch Dataset read through a DataLoader in the main process
(2 cores: a worker process would take a core from training).

Prints one JSON line with the seconds of each phase and in all.
"""
import argparse
import csv
import json
import time
from pathlib import Path

START = time.perf_counter()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    import numpy as np
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torch_replica import build

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    imported = time.perf_counter()

    with open(a.data / "train.csv") as handle:
        labels = {row["id"]: int(row["label"]) for row in csv.DictReader(handle)}
    with open(a.data / "folds.csv") as handle:
        folds = {row["id"]: int(row["fold"]) for row in csv.DictReader(handle)}
    classes = max(labels.values()) + 1
    train_ids = [i for i in labels if folds[i] != a.fold]
    held_out = [i for i in labels if folds[i] == a.fold]
    test_ids = sorted(path.stem for path in (a.data / "test").glob("*.jpg"))

    class Images(Dataset):
        def __init__(self, folder, ids):
            self.folder, self.ids = folder, ids

        def __len__(self):
            return len(self.ids)

        def __getitem__(self, index):
            name = self.ids[index]
            with Image.open(self.folder / f"{name}.jpg") as image:
                pixels = np.asarray(image.convert("L"), dtype=np.float32) / 255
            x = torch.from_numpy((pixels - 0.5) / 0.5).unsqueeze(0)
            return x, labels.get(name, 0)

    model = build("resnet_ref", 1, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(Images(a.data / "train", train_ids), batch_size=a.batch, shuffle=True, num_workers=0)
    model.train()
    for _ in range(a.epochs):
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
    trained = time.perf_counter()

    def predict(folder, ids):
        model.eval()
        out = []
        with torch.inference_mode():
            for x, _ in DataLoader(Images(folder, ids), batch_size=256, num_workers=0):
                out.append(torch.softmax(model(x), dim=1).numpy())
        return np.concatenate(out)

    a.out.mkdir(parents=True, exist_ok=True)
    np.save(a.out / "oof.npy", predict(a.data / "train", held_out))
    np.save(a.out / "test.npy", predict(a.data / "test", test_ids))
    done = time.perf_counter()
    print(json.dumps({"import_s": round(imported - START, 2), "train_s": round(trained - imported, 2),
                      "predict_s": round(done - trained, 2), "total_s": round(done - START, 2),
                      "train_images": len(train_ids), "predicted_images": len(held_out) + len(test_ids),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
